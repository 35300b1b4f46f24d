"""Queries a user may type by mistake or on purpose, and what each must give: its error in one line, or (None)
a search that finds nothing in the tests' archives."""

ODD_QUERIES = [  # what each gives: the error's one line, or (None) a search that finds nothing here
    ("' OR 1=1 --", "\"'\" has no letters or digits at column 1"),
    ("%", "'%' has no letters or digits at column 1"),
    ("'", "\"'\" has no letters or digits at column 1"),
    ('"', "unclosed quote at column 1"),
    ("NEAR(", "expected a term, a phrase or ( but found nothing at column 6"),
    ("title:", "title: has nothing after it at column 1"),
    ("a AND", "AND has nothing after it at column 3"),
    (")", "expected a term, a phrase or ( but found ')' at column 1"),
    ("*", "'*' has no letters or digits at column 1"),
    ("\x00", "'\\x00' has no letters or digits at column 1"),
    ("DROP TABLE stories;", None),
]
