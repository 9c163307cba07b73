"""Task-group factories: each phase of a case as one call, so a DAG file reads like the checklist."""
