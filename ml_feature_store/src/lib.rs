//! ml_feature_store
