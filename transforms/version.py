"""The parser's version, apart from the parser: reading it (the parse cache's keys, the run record's
fingerprint) does not import the parser, which a run with nothing new never needs."""

PARSER_VERSION = "1.4.1"
