"""Allow ``python -m dossier``."""

from dossier.cli import main

if __name__ == "__main__":
    main()
