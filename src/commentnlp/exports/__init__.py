"""Label comment exports: every input record comes back, in order, with labels or an error.

Formats: JSON Lines and CSV, plain or ``.gz`` (by extension, or given), from a file or
stdin, to a file or stdout; a CSV's separator (``, ; tab |``) and encoding (UTF-8, or UTF-16
with a byte-order mark) are found from its start (:func:`sniff_csv`), and CSV output keeps the
separator; JSON lines and text may be UTF-16 too, and any input another encoding, when named.
A record is written back unchanged plus ``labels`` (the four heads), ``scores`` and ``action``
(CSV: flat ``style, intent, sentiment, troll, action`` columns and one ``<head>_score`` column
per head). A record that cannot be labelled (not JSON, not an object, invalid UTF-8, a CSV row
of the wrong width or with a quote never closed, no text, empty or non-string text) is carried
through with an ``error`` field giving the line number and the reason, and counted in the
:class:`LabelSummary`.

Files are streamed in chunks (constant memory) into ``.<name>.part`` beside the output,
which is renamed only once complete. After every chunk a checkpoint
(``.<name>.part.json``: records and bytes written) is saved, so ``resume=True`` continues an
interrupted run without duplicating or skipping records.

The package's modules, from the readers up: :mod:`.items` (an input record, InputError),
:mod:`.plurals`, :mod:`.fields` (text and reply fields), :mod:`.text_encodings` (encodings and byte
streams), :mod:`.json_reading`, :mod:`.writers` (JSONL and CSV sinks), :mod:`.csv_reading`,
:mod:`.formats` (formats and paths), :mod:`.inputs` (opening inputs), :mod:`.checkpoints` (part files,
resume), :mod:`.labelling` (:func:`label_records`, :class:`LabelSummary`) and :mod:`.file_labelling`
(:func:`label_file`). Every public name is imported from here."""

from __future__ import annotations

from .csv_reading import (CSV_DELIMITERS, CSV_FIELD_LIMIT, MAX_PREAMBLE_ROWS, allow_long_csv_fields, is_header,
                          read_csv, sniff_csv)
from .fields import (NESTED_TEXT_FIELDS, REPLY_FIELDS, TEXT_FIELDS, field_among, first_field, reply_field_in,
                     reply_of, reply_value, text_field_in, text_of)
from .file_labelling import label_file
from .formats import (FORMATS, INPUT_FORMATS, check_not_an_input, default_output_path, detect_format, distinct_files,
                      is_device_or_pipe, names_a_folder, names_a_format, names_tsv)
from .inputs import (check_input_file, format_from_head, is_tab_separated_table, likely_text_fields, open_export,
                     open_input, open_stdin, readable, xlsx_as_csv)
from .items import InputError, Item
from .json_reading import (API_LIST_KEYS, MAX_DEPTH, NESTED_REPLY_PATHS, TOO_DEEP, RawLine, deeper_than,
                           holds_json_documents, json_documents, jsonl_lines, parse_jsonl_line, read_json_documents,
                           read_jsonl, read_text_lines)
from .labelling import (LabelSummary, chunked, label_records, labelled_chunks, output_records, replies_to_label,
                        rows_of, texts_to_label)
from .plurals import plural
from .text_encodings import ChunkStream, as_utf8, bom_encoding, check_encoding, lines_ending_in_cr
from .writers import (OUTPUT_FIELDS, formula_note, jsonl_line, opens_as_formula, record_of_csv_row,
                      record_of_spark_row, written_by_label)

__all__ = ["API_LIST_KEYS", "CSV_DELIMITERS", "CSV_FIELD_LIMIT", "FORMATS", "INPUT_FORMATS", "MAX_DEPTH",
           "MAX_PREAMBLE_ROWS", "NESTED_REPLY_PATHS", "NESTED_TEXT_FIELDS", "OUTPUT_FIELDS", "REPLY_FIELDS",
           "TEXT_FIELDS", "TOO_DEEP", "allow_long_csv_fields", "as_utf8", "bom_encoding", "check_encoding",
           "check_input_file", "check_not_an_input", "chunked", "ChunkStream", "deeper_than", "default_output_path",
           "detect_format", "distinct_files", "field_among", "first_field", "format_from_head", "formula_note",
           "holds_json_documents", "InputError", "is_device_or_pipe", "is_header", "is_tab_separated_table", "Item",
           "json_documents", "jsonl_line", "jsonl_lines", "label_file", "label_records", "labelled_chunks",
           "LabelSummary", "likely_text_fields", "lines_ending_in_cr", "names_a_folder", "names_a_format",
           "names_tsv", "open_export", "open_input", "open_stdin", "opens_as_formula", "output_records",
           "parse_jsonl_line", "plural", "RawLine", "read_csv", "read_json_documents", "read_jsonl",
           "read_text_lines", "readable", "record_of_csv_row", "record_of_spark_row", "replies_to_label",
           "reply_field_in", "reply_of", "reply_value", "rows_of", "sniff_csv", "text_field_in", "text_of",
           "texts_to_label", "written_by_label", "xlsx_as_csv"]
