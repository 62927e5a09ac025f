//! Query results column by column: one typed vector per column instead of a [`Value`] per cell.
//!
//! A history read brings tens of thousands of rows (MLFS's busiest date reads 25,516 games).
//! As rows, each is a vector of cells and each text cell its own allocation, made on the
//! warehouse's reader thread and freed on the runtime's; as columns, a read is a handful of
//! vectors, texts packed in one buffer, and the processor borrows the texts it groups and
//! compares instead of owning them. [`ColumnSet`] is also the embedded warehouse's one decoded
//! form: its row results are a column set turned into rows ([`ColumnSet::into_result_set`]).

use chrono::{DateTime, NaiveDate, Utc};

use crate::value::{CellRef, Value};
use crate::warehouse::ResultSet;

/// A query's result as columns, in select order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ColumnSet {
    pub names: Vec<String>,
    pub columns: Vec<Cells>,
    pub rows: usize,
}

/// The cells of one column, typed by what the warehouse returned.
#[derive(Clone, Debug, PartialEq)]
pub enum Cells {
    Texts(Texts),
    Ints(Vec<Option<i64>>),
    /// NaN is kept as read; readers treat it as missing ([`CellRef::as_f64`]).
    Floats(Vec<Option<f64>>),
    Flags(Vec<Option<bool>>),
    Dates(Vec<Option<NaiveDate>>),
    Timestamps(Vec<Option<DateTime<Utc>>>),
    /// Lists, NULL-typed columns, and columns whose cells are of mixed kinds.
    Values(Vec<Value>),
}

impl Cells {
    /// The cell of `row`.
    #[inline]
    pub fn cell(&self, row: usize) -> CellRef<'_> {
        fn or_null<T: Copy>(
            cell: Option<T>,
            present: impl FnOnce(T) -> CellRef<'static>,
        ) -> CellRef<'static> {
            cell.map_or(CellRef::Null, present)
        }
        match self {
            Cells::Texts(texts) => texts.get(row).map_or(CellRef::Null, CellRef::Text),
            Cells::Ints(numbers) => or_null(numbers[row], CellRef::Int),
            Cells::Floats(numbers) => or_null(numbers[row], CellRef::Float),
            Cells::Flags(flags) => or_null(flags[row], CellRef::Bool),
            Cells::Dates(dates) => or_null(dates[row], CellRef::Date),
            Cells::Timestamps(timestamps) => or_null(timestamps[row], CellRef::Timestamp),
            Cells::Values(values) => values[row].cell(),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Cells::Texts(texts) => texts.len(),
            Cells::Ints(numbers) => numbers.len(),
            Cells::Floats(numbers) => numbers.len(),
            Cells::Flags(flags) => flags.len(),
            Cells::Dates(dates) => dates.len(),
            Cells::Timestamps(timestamps) => timestamps.len(),
            Cells::Values(values) => values.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The column of `cells` in the kind of its first non-NULL cell, or as [`Cells::Values`]
    /// when another cell is of a different kind (or a list).
    fn of_values(cells: Vec<Value>) -> Cells {
        fn typed<T>(cells: &[Value], take: impl Fn(&Value) -> Option<T>) -> Option<Vec<Option<T>>> {
            cells
                .iter()
                .map(|cell| match cell {
                    Value::Null => Some(None),
                    other => take(other).map(Some),
                })
                .collect()
        }
        let typed_cells = match cells.iter().find(|cell| !cell.is_null()) {
            Some(Value::String(_)) => {
                let mut texts = Texts::with_capacity(cells.len(), 0);
                let mut all_texts = true;
                for cell in &cells {
                    match cell {
                        Value::Null => texts.push(None),
                        Value::String(text) => texts.push(Some(text)),
                        _ => {
                            all_texts = false;
                            break;
                        }
                    }
                }
                all_texts.then_some(Cells::Texts(texts))
            }
            Some(Value::Int(_)) => {
                typed(&cells, |cell| if let Value::Int(number) = cell { Some(*number) } else { None })
                    .map(Cells::Ints)
            }
            Some(Value::Float(_)) => {
                typed(&cells, |cell| if let Value::Float(number) = cell { Some(*number) } else { None })
                    .map(Cells::Floats)
            }
            Some(Value::Bool(_)) => typed(&cells, Value::as_bool).map(Cells::Flags),
            Some(Value::Date(_)) => typed(&cells, Value::as_date).map(Cells::Dates),
            Some(Value::Timestamp(_)) => typed(&cells, Value::as_timestamp).map(Cells::Timestamps),
            _ => None,
        };
        typed_cells.unwrap_or(Cells::Values(cells))
    }
}

/// A text column: the texts end to end in one buffer, with where each starts and ends.
#[derive(Clone, Debug, PartialEq)]
pub struct Texts {
    buffer: String,
    /// Row `r`'s text is `buffer[offsets[r]..offsets[r + 1]]`.
    offsets: Vec<usize>,
    nulls: Vec<bool>,
}

impl Texts {
    pub fn with_capacity(rows: usize, bytes: usize) -> Texts {
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        Texts { buffer: String::with_capacity(bytes), offsets, nulls: Vec::with_capacity(rows) }
    }

    pub fn push(&mut self, text: Option<&str>) {
        self.buffer.push_str(text.unwrap_or_default());
        self.offsets.push(self.buffer.len());
        self.nulls.push(text.is_none());
    }

    /// Appends texts given as bytes, with one UTF-8 check for all of them instead of one per
    /// text: a history read's texts are a few bytes each, and checking them one by one cost
    /// more than copying them.
    ///
    /// # Errors
    /// The bytes are not UTF-8, or a text starts or ends inside a character; nothing is
    /// appended then.
    pub fn extend_from_utf8<'a>(
        &mut self,
        texts: impl IntoIterator<Item = Option<&'a [u8]>>,
    ) -> Result<(), String> {
        let (start_bytes, start_rows) = (self.buffer.len(), self.nulls.len());
        let mut bytes = std::mem::take(&mut self.buffer).into_bytes();
        for text in texts {
            bytes.extend_from_slice(text.unwrap_or_default());
            self.offsets.push(bytes.len());
            self.nulls.push(text.is_none());
        }
        let added = &bytes[start_bytes..];
        let error = match std::str::from_utf8(added) {
            Err(error) => Some(format!("a text is not UTF-8: {error}")),
            // Each text whole: none starts on a continuation byte (0b10xx_xxxx) of a character.
            Ok(_)
                if !self.offsets[start_rows..]
                    .iter()
                    .all(|&end| bytes.get(end).is_none_or(|byte| (*byte as i8) >= -0x40)) =>
            {
                Some("a text starts or ends inside a UTF-8 character".to_owned())
            }
            Ok(_) => None,
        };
        if error.is_some() {
            bytes.truncate(start_bytes);
            self.offsets.truncate(start_rows + 1);
            self.nulls.truncate(start_rows);
        }
        // SAFETY: the buffer was a `String`, and what is kept of the bytes added was checked.
        self.buffer = unsafe { String::from_utf8_unchecked(bytes) };
        error.map_or(Ok(()), Err)
    }

    /// The text of `row`; `None` when NULL.
    #[inline]
    pub fn get(&self, row: usize) -> Option<&str> {
        if self.nulls[row] {
            return None;
        }
        Some(&self.buffer[self.offsets[row]..self.offsets[row + 1]])
    }

    pub fn len(&self) -> usize {
        self.nulls.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nulls.is_empty()
    }
}

impl ColumnSet {
    /// Rows turned into columns, for backends that decode rows (BigQuery's JSON rows).
    pub fn from_rows(result: ResultSet) -> ColumnSet {
        let rows = result.rows.len();
        let mut by_column: Vec<Vec<Value>> =
            result.columns.iter().map(|_| Vec::with_capacity(rows)).collect();
        for row in result.rows {
            for (column, cell) in by_column.iter_mut().zip(row) {
                column.push(cell);
            }
        }
        ColumnSet {
            names: result.columns,
            columns: by_column.into_iter().map(Cells::of_values).collect(),
            rows,
        }
    }

    /// The columns turned into rows of [`Value`]s, row by row (a row's cells are written
    /// together, so it stays in cache while they are), lists moved rather than copied.
    pub fn into_result_set(self) -> ResultSet {
        let mut columns: Vec<IntoValues> = self.columns.into_iter().map(IntoValues::new).collect();
        let rows =
            (0..self.rows).map(|row| columns.iter_mut().map(|column| column.take(row)).collect()).collect();
        ResultSet { columns: self.names, rows }
    }
}

/// A column handing out its cells as owned values.
enum IntoValues {
    Values(std::vec::IntoIter<Value>),
    Typed(Cells),
}

impl IntoValues {
    fn new(cells: Cells) -> IntoValues {
        match cells {
            Cells::Values(values) => IntoValues::Values(values.into_iter()),
            typed => IntoValues::Typed(typed),
        }
    }

    /// The cell of `row`, rows taken in order.
    fn take(&mut self, row: usize) -> Value {
        match self {
            IntoValues::Values(values) => values.next().unwrap_or(Value::Null),
            IntoValues::Typed(cells) => cells.cell(row).to_value(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn rows() -> ResultSet {
        ResultSet {
            columns: ["name", "points", "minutes", "flag", "day", "mixed", "empty", "list"]
                .map(String::from)
                .into(),
            rows: vec![
                vec![
                    Value::String("a".into()),
                    Value::Int(3),
                    Value::Float(1.5),
                    Value::Bool(true),
                    Value::Date(date("2025-01-15")),
                    Value::Int(1),
                    Value::Null,
                    Value::FloatArray(vec![1.0]),
                ],
                vec![
                    Value::String(String::new()),
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::String("x".into()),
                    Value::Null,
                    Value::Null,
                ],
                vec![
                    Value::Null,
                    Value::Int(-7),
                    Value::Float(2.0),
                    Value::Bool(false),
                    Value::Date(date("2025-01-16")),
                    Value::Null,
                    Value::Null,
                    Value::StringArray(vec!["s".into()]),
                ],
            ],
        }
    }

    #[test]
    fn texts_given_as_bytes_are_checked_as_utf8_all_at_once() {
        let mut texts = Texts::with_capacity(4, 8);
        texts.push(Some("LAL"));
        let pieces: [Option<&[u8]>; 3] = [Some("Jokić".as_bytes()), None, Some(b"")];
        texts.extend_from_utf8(pieces).unwrap();
        assert_eq!(
            (0..4).map(|row| texts.get(row)).collect::<Vec<_>>(),
            [Some("LAL"), Some("Jokić"), None, Some("")]
        );

        // Bytes that are not UTF-8, and a character split between two texts (whole, the bytes
        // are UTF-8): an error, and the texts are as they were.
        let split = "é".as_bytes();
        for (pieces, message) in [
            ([Some(b"ok".as_slice()), Some(b"\xff".as_slice())], "a text is not UTF-8"),
            ([Some(&split[..1]), Some(&split[1..])], "a text starts or ends inside a UTF-8 character"),
        ] {
            let error = texts.extend_from_utf8(pieces).unwrap_err();
            assert!(error.starts_with(message), "{error}");
            assert_eq!(texts.len(), 4);
            assert_eq!(texts.get(3), Some(""));
        }
        texts.push(Some("GSW"));
        assert_eq!(texts.get(4), Some("GSW"));
    }

    #[test]
    fn rows_become_columns_of_their_cells_kind_and_back() {
        let columns = ColumnSet::from_rows(rows());
        assert_eq!(columns.rows, 3);
        assert!(
            matches!(
                columns.columns[..],
                [
                    Cells::Texts(_),
                    Cells::Ints(_),
                    Cells::Floats(_),
                    Cells::Flags(_),
                    Cells::Dates(_),
                    // Mixed kinds, no kind at all, and lists keep their values.
                    Cells::Values(_),
                    Cells::Values(_),
                    Cells::Values(_),
                ]
            ),
            "{:?}",
            columns.columns
        );
        // An empty text is a text, not NULL.
        let names: Vec<CellRef<'_>> = (0..3).map(|row| columns.columns[0].cell(row)).collect();
        assert_eq!(names, [CellRef::Text("a"), CellRef::Text(""), CellRef::Null]);
        assert_eq!(columns.columns[1].cell(2).as_i64(), Some(-7));
        assert_eq!(columns.columns[4].cell(2).as_date(), Some(date("2025-01-16")));
        assert_eq!(columns.columns[5].cell(1), CellRef::Text("x"));
        assert_eq!(columns.into_result_set(), rows());
    }

    #[test]
    fn texts_end_to_end_in_one_buffer() {
        let mut texts = Texts::with_capacity(4, 8);
        for text in [Some("ab"), None, Some(""), Some("cde")] {
            texts.push(text);
        }
        assert_eq!(texts.len(), 4);
        assert_eq!(
            (0..4).map(|row| texts.get(row)).collect::<Vec<_>>(),
            [Some("ab"), None, Some(""), Some("cde")]
        );
        assert_eq!(texts.buffer, "abcde");
    }
}
