//! From a [`Table`] to network inputs and targets: which columns are
//! targets, one-hot encoding of text inputs, class labels. The [`Encoding`]
//! is fitted on training data and saved with the model, so prediction data
//! is encoded the same way.

use super::csv::{Column, Table};
use super::{Dataset, TargetData};
use crate::error::{Error, Result};
use crate::model_file::{InputColumn, Task};

/// How a table's columns become network inputs and targets.
#[derive(Clone, Debug, PartialEq)]
pub struct Encoding {
    /// Regression or classification.
    pub task: Task,
    /// The input columns, in order, with their encoders.
    pub inputs: Vec<InputColumn>,
    /// The target columns' names.
    pub targets: Vec<String>,
    /// Class labels, by class index (classification).
    pub class_labels: Vec<String>,
}

fn sorted_unique(values: impl Iterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = values.collect();
    v.sort();
    v.dedup();
    v
}

fn label_of(column: &Column, row: usize) -> String {
    match column {
        Column::Numeric(v) => v[row].to_string(),
        Column::Text(v) => v[row].clone(),
    }
}

/// The position of a value among known labels: equal text, or, for numbers,
/// equal value (so `07` in one file finds `7` from another).
fn find_label(known: &[String], column: &Column, row: usize) -> Option<usize> {
    let text = label_of(column, row);
    known.iter().position(|k| *k == text).or_else(|| {
        let value = match column {
            Column::Numeric(v) => v[row],
            Column::Text(v) => v[row].parse().ok()?,
        };
        known.iter().position(|k| k.parse::<f64>().is_ok_and(|k| k == value))
    })
}

fn error(table: &Table, row: usize, message: String) -> Error {
    Error::Csv {
        path: table.source.clone(),
        line: table.lines.get(row).copied().unwrap_or(1),
        message,
    }
}

impl Encoding {
    /// Fits an encoding to training data: `targets` are column indices;
    /// `task` `None` infers classification from a text target.
    ///
    /// # Errors
    /// [`Error::Csv`] for classification with several targets, or a text
    /// column given as a regression target.
    pub fn fit(table: &Table, targets: &[usize], task: Option<Task>) -> Result<Self> {
        let any_text = targets.iter().any(|&k| matches!(table.columns[k], Column::Text(_)));
        let task = task.unwrap_or(if any_text { Task::Classify } else { Task::Regress });
        let names = |ks: &[usize]| ks.iter().map(|&k| table.names[k].clone()).collect::<Vec<_>>();
        let class_labels = match task {
            Task::Classify => {
                let [k] = targets else {
                    return Err(error(
                        table,
                        0,
                        format!("classification takes one target column, got {}", targets.len()),
                    ));
                };
                let labels = match &table.columns[*k] {
                    Column::Text(v) => sorted_unique(v.iter().cloned()),
                    Column::Numeric(v) => {
                        let mut values = v.clone();
                        values.sort_by(f64::total_cmp);
                        values.dedup();
                        values.iter().map(ToString::to_string).collect()
                    }
                };
                if labels.len() < 2 {
                    let name = &table.names[*k];
                    let message = format!(
                        "target column {name:?} has one class ({}); classification needs at least 2",
                        labels.join("")
                    );
                    return Err(error(table, 0, message));
                }
                labels
            }
            Task::Regress => {
                if let Some(&k) =
                    targets.iter().find(|&&k| matches!(table.columns[k], Column::Text(_)))
                {
                    let name = &table.names[k];
                    return Err(error(
                        table,
                        0,
                        format!("target column {name:?} is text; use --task classify"),
                    ));
                }
                Vec::new()
            }
        };
        let inputs = (0..table.names.len())
            .filter(|k| !targets.contains(k))
            .map(|k| {
                let name = table.names[k].clone();
                match &table.columns[k] {
                    Column::Numeric(_) => InputColumn::Numeric { name },
                    Column::Text(v) => InputColumn::Categorical {
                        name,
                        categories: sorted_unique(v.iter().cloned()),
                    },
                }
            })
            .collect::<Vec<_>>();
        if inputs.is_empty() {
            return Err(error(
                table,
                0,
                "every column is a target: no input columns are left".into(),
            ));
        }
        Ok(Self { task, inputs, targets: names(targets), class_labels })
    }

    /// The number of network inputs `n_0`.
    pub fn input_width(&self) -> usize {
        self.inputs.iter().map(InputColumn::width).sum()
    }

    /// The number of network outputs `n_L`: one per target, or one per class.
    pub fn output_width(&self) -> usize {
        match self.task {
            Task::Regress => self.targets.len(),
            Task::Classify => self.class_labels.len(),
        }
    }

    /// The network inputs of every row, `[N, n_0]`, looking columns up by name.
    ///
    /// # Errors
    /// [`Error::Csv`] for a missing column, a text value in a numeric input,
    /// or a category that training never saw.
    pub fn encode_inputs(&self, table: &Table) -> Result<Vec<f64>> {
        let width = self.input_width();
        let mut out = vec![0.0; table.rows() * width];
        let mut offset = 0;
        for input in &self.inputs {
            let k = table.column_index(input.name())?;
            match (input, &table.columns[k]) {
                (InputColumn::Numeric { .. }, Column::Numeric(v)) => {
                    for (r, &x) in v.iter().enumerate() {
                        out[r * width + offset] = x;
                    }
                }
                (InputColumn::Numeric { name }, Column::Text(v)) => {
                    let r = v.iter().position(|s| s.parse::<f64>().is_err()).unwrap_or(0);
                    return Err(error(
                        table,
                        r,
                        format!("column {name:?}: {} is not a number", super::quoted(&v[r])),
                    ));
                }
                (InputColumn::Categorical { name, categories }, column) => {
                    for r in 0..table.rows() {
                        let value = label_of(column, r);
                        let c = categories.iter().position(|c| *c == value).ok_or_else(|| {
                            error(
                                table,
                                r,
                                format!(
                                    "column {name:?}: category {} was not seen in training",
                                    super::quoted(&value)
                                ),
                            )
                        })?;
                        out[r * width + offset + c] = 1.0;
                    }
                }
            }
            offset += input.width();
        }
        Ok(out)
    }

    /// The targets of every row.
    ///
    /// # Errors
    /// [`Error::Csv`] for a missing target column or a class label that
    /// training never saw.
    pub fn encode_targets(&self, table: &Table) -> Result<TargetData<f64>> {
        let columns: Vec<usize> =
            self.targets.iter().map(|t| table.column_index(t)).collect::<Result<_>>()?;
        match self.task {
            Task::Regress => {
                let width = columns.len();
                let mut values = vec![0.0; table.rows() * width];
                for (j, &k) in columns.iter().enumerate() {
                    let Column::Numeric(v) = &table.columns[k] else {
                        return Err(error(
                            table,
                            0,
                            format!("target column {:?} is not numeric", self.targets[j]),
                        ));
                    };
                    for (r, &y) in v.iter().enumerate() {
                        values[r * width + j] = y;
                    }
                }
                Ok(TargetData::Values { values, width })
            }
            Task::Classify => {
                let column = &table.columns[columns[0]];
                let labels = (0..table.rows())
                    .map(|r| {
                        let label = label_of(column, r);
                        find_label(&self.class_labels, column, r).ok_or_else(|| {
                            error(
                                table,
                                r,
                                format!(
                                    "class {label:?} was not seen in training (known: {})",
                                    self.class_labels.join(", ")
                                ),
                            )
                        })
                    })
                    .collect::<Result<_>>()?;
                Ok(TargetData::Classes(labels))
            }
        }
    }

    /// Inputs and targets of a table as a data set.
    ///
    /// # Errors
    /// As [`encode_inputs`](Self::encode_inputs) and [`encode_targets`](Self::encode_targets).
    pub fn dataset(&self, table: &Table) -> Result<Dataset<f64>> {
        Dataset::new(self.encode_inputs(table)?, self.input_width(), self.encode_targets(table)?)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::data::csv::CsvOptions;

    fn table(text: &str) -> Table {
        Table::parse(Path::new("t.csv"), text.as_bytes(), CsvOptions::default()).unwrap()
    }

    #[test]
    fn text_inputs_are_one_hot_and_text_targets_make_classification() {
        let t = table("size,colour,kind\n1.5,red,cat\n2,blue,dog\n3,red,cat\n");
        let e = Encoding::fit(&t, &[2], None).unwrap();
        assert_eq!(
            (e.task, e.class_labels.clone()),
            (Task::Classify, vec!["cat".to_string(), "dog".to_string()])
        );
        assert_eq!((e.input_width(), e.output_width()), (3, 2));
        assert_eq!(e.encode_inputs(&t).unwrap(), [1.5, 0.0, 1.0, 2.0, 1.0, 0.0, 3.0, 0.0, 1.0]);
        assert_eq!(e.encode_targets(&t).unwrap(), TargetData::Classes(vec![0, 1, 0]));
        let unseen = table("size,colour,kind\n1,green,cat\n");
        let err = e.encode_inputs(&unseen).unwrap_err().to_string();
        assert_eq!(err, "t.csv:2: column \"colour\": category \"green\" was not seen in training");
        let unseen = table("size,colour,kind\n1,red,bird\n");
        assert!(
            e.encode_targets(&unseen)
                .unwrap_err()
                .to_string()
                .starts_with("t.csv:2: class \"bird\" was not seen")
        );
        let missing = table("size,kind\n1,cat\n");
        assert!(
            e.encode_inputs(&missing).unwrap_err().to_string().contains("no column \"colour\"")
        );
    }

    #[test]
    fn numeric_targets_regress_unless_asked_to_classify() {
        let t = table("a,b,y1,y2\n1,2,3,4\n5,6,7,8\n");
        let e = Encoding::fit(&t, &[2, 3], None).unwrap();
        assert_eq!((e.task, e.output_width()), (Task::Regress, 2));
        assert_eq!(
            e.encode_targets(&t).unwrap(),
            TargetData::Values { values: vec![3.0, 4.0, 7.0, 8.0], width: 2 }
        );
        let e = Encoding::fit(&t, &[2], Some(Task::Classify)).unwrap();
        assert_eq!(e.class_labels, ["3", "7"]);
        assert!(Encoding::fit(&t, &[2, 3], Some(Task::Classify)).is_err());
    }
}
