"""`python -m reanimate ...` (and `torchrun -m reanimate ...`): the same as the `reanimate` command."""

from reanimate.cli import run

if __name__ == "__main__":
    run()
