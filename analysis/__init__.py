"""Analysis of ladderbench results: HDF5 result files -> tidy table -> tables, comparison, figures.

Run it as `python -m analysis <subcommand>`; see analysis/README.md.
"""
