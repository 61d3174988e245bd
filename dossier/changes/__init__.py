"""What changed between two data cuts: snapshots of two analyses, their comparison, its words.

``snapshot`` reads an analysis from a dossier folder (its JSON) or runs one on a registry;
``compare`` lists what moved, per cohort and pooled; ``text`` writes it for people; ``output``
writes ``changes.json`` and the report without ever replacing a file dossier did not write.
"""
