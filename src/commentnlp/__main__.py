"""``python -m commentnlp`` runs the command line."""

from commentnlp.cli import main

main()
