"""Pages, charts and terminal tables: values from verdicts/ turned into text, HTML and PNG."""
