"""The whole-DAG rehearsals in one package: the package-scoped rehearsal deployment stops when the last of them ends."""
