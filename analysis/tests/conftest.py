"""pytest settings for the analysis tests."""


def pytest_configure(config):
    # matplotlib 3.9 calls pyparsing functions that pyparsing >= 3.3 deprecates; noise, not ours.
    config.addinivalue_line("filterwarnings", r"ignore::DeprecationWarning:matplotlib\..*")
