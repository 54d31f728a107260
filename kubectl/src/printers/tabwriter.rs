//! Column alignment as Go's text/tabwriter does it with kubectl's settings (minwidth 6,
//! padding 3, pad with spaces): cells end with a tab, the last cell of a line is not aligned,
//! and a column's width is set per block of consecutive lines that have that column.
//! A writer that remembers widths (as kubectl's does for `get --watch`) never narrows a
//! column below what an earlier flush printed, so streamed rows stay aligned.

/// Collects tab-separated lines and aligns them on `flush`.
#[derive(Default)]
pub struct TabWriter {
    lines: Vec<Vec<String>>,
    partial: String,
    padding: usize,
    min_width: usize,
    /// Widest cell width per column seen by earlier flushes, when remembering.
    remembered: Option<Vec<usize>>,
}

impl TabWriter {
    /// kubectl's writer: cells padded by 3, columns at least 6 wide.
    pub fn new() -> TabWriter {
        TabWriter {
            padding: 3,
            min_width: 6,
            ..Default::default()
        }
    }

    /// kubectl's writer that keeps column widths across flushes.
    pub fn remembering() -> TabWriter {
        TabWriter {
            remembered: Some(Vec::new()),
            ..TabWriter::new()
        }
    }

    /// Appends text; `\t` ends a cell and `\n` ends a line.
    pub fn write(&mut self, text: &str) {
        for ch in text.chars() {
            match ch {
                '\n' => {
                    let last = std::mem::take(&mut self.partial);
                    self.current_line().push(last);
                    self.lines.push(Vec::new());
                }
                '\t' => {
                    let cell = std::mem::take(&mut self.partial);
                    self.current_line().push(cell);
                }
                c => self.partial.push(c),
            }
        }
    }

    fn current_line(&mut self) -> &mut Vec<String> {
        if self.lines.is_empty() {
            self.lines.push(Vec::new());
        }
        let n = self.lines.len() - 1;
        &mut self.lines[n]
    }

    /// Aligns everything written so far and returns it; the writer is empty afterwards.
    pub fn flush(&mut self) -> String {
        if !self.partial.is_empty() {
            let last = std::mem::take(&mut self.partial);
            self.current_line().push(last);
        }
        let mut lines = std::mem::take(&mut self.lines);
        // A trailing empty line is the state after the final newline, not a line of output.
        let ends_with_newline = lines.last().is_some_and(|l| l.is_empty());
        if ends_with_newline {
            lines.pop();
        }
        let mut widths = vec![0usize; lines.len()]
            .into_iter()
            .map(|_| Vec::new())
            .collect::<Vec<Vec<usize>>>();
        self.layout(&lines, 0, lines.len(), &mut Vec::new(), &mut widths);
        let mut out = String::new();
        for (i, line) in lines.iter().enumerate() {
            for (j, cell) in line.iter().enumerate() {
                out.push_str(cell);
                if j + 1 < line.len() {
                    let w = widths[i].get(j).copied().unwrap_or(0);
                    let len = cell.chars().count();
                    out.extend(std::iter::repeat_n(' ', w.saturating_sub(len)));
                }
            }
            if i + 1 < lines.len() || ends_with_newline {
                out.push('\n');
            }
        }
        out
    }

    /// Go's format(): column `stack.len()` is aligned within blocks of consecutive lines
    /// that have a tab-terminated cell in it.
    fn layout(
        &mut self,
        lines: &[Vec<String>],
        start: usize,
        end: usize,
        stack: &mut Vec<usize>,
        widths: &mut [Vec<usize>],
    ) {
        let column = stack.len();
        let mut i = start;
        while i < end {
            if column + 1 < lines[i].len() {
                let mut j = i;
                let mut width = self.min_width;
                while j < end && column + 1 < lines[j].len() {
                    width = width.max(lines[j][column].chars().count() + self.padding);
                    j += 1;
                }
                if let Some(seen) = self.remembered.as_mut() {
                    if seen.len() <= column {
                        seen.resize(column + 1, 0);
                    }
                    width = width.max(seen[column]);
                    seen[column] = width;
                }
                stack.push(width);
                self.layout(lines, i, j, stack, widths);
                stack.pop();
                i = j;
            } else {
                widths[i] = stack.clone();
                i += 1;
            }
        }
    }
}

/// Aligns a whole text at once.
pub fn align(text: &str) -> String {
    let mut w = TabWriter::new();
    w.write(text);
    w.flush()
}

/// Aligns with other settings (`rollout history` pads by 2 with no minimum width).
pub fn align_with(text: &str, min_width: usize, padding: usize) -> String {
    let mut w = TabWriter {
        padding,
        min_width,
        ..Default::default()
    };
    w.write(text);
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_columns_by_three() {
        let out = align("NAME\tREADY\tAGE\nweb-1\t1/1\t5s\n");
        assert_eq!(out, "NAME    READY   AGE\nweb-1   1/1     5s\n");
    }

    #[test]
    fn empty_trailing_cell_keeps_padding() {
        let out = align("A\tB\tC\nxx\t\t\n");
        assert_eq!(out, "A     B     C\nxx          \n");
    }

    #[test]
    fn blocks_are_aligned_separately() {
        // The middle line has no tab, so the blocks above and below are independent.
        let out = align("a\tb\nlong-cell-here\nccc\td\n");
        assert_eq!(out, "a     b\nlong-cell-here\nccc   d\n");
    }

    #[test]
    fn narrow_columns_are_six_wide() {
        assert_eq!(align("p1\t0\t5s\n"), "p1    0     5s\n");
    }

    #[test]
    fn remembered_widths_never_shrink() {
        let mut w = TabWriter::remembering();
        w.write("NAME\tDATA\tAGE\nlong-name-here\t1\t5s\n");
        assert_eq!(w.flush(), "NAME             DATA   AGE\nlong-name-here   1      5s\n");
        w.write("a\t2\t0s\n");
        assert_eq!(w.flush(), "a                2      0s\n");
    }

    #[test]
    fn counts_characters_not_bytes() {
        let out = align("éabc\tx\nab\ty\n");
        assert_eq!(out, "éabc   x\nab     y\n");
    }
}
