"""The safety linter: what each revision would do, checked against rules, without a database.

reader.py runs a revision against recording operations; sql.py parses raw SQL; schema.py
replays the history so rules know which tables existed before; rules/ holds one rule per
module; engine.py puts them together; report.py is what comes out.
"""
