"""Shared support of the test suite: mocks, fakes and builders that several test modules use
(no test module imports another)."""
