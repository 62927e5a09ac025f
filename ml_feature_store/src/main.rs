//! The `ml_feature_store` binary: the shared command line over this processor.

fn main() -> std::process::ExitCode {
    framework::cli::main(ml_feature_store::MlFeatureStoreProcessor)
}
