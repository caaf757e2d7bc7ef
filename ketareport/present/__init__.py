"""The presentation step: results become the report's strings.

- :mod:`.formats` — the one set of number formats;
- :mod:`.context` — the typed, string-only context the templates receive;
- :mod:`.facts` — the typed facts the reporting rules decide on;
- :mod:`.narrative` — the reporting rules, one function per generated sentence;
- :mod:`.tables` — Tables 1–5;
- :mod:`.appendix` — the reproducibility appendix (pure);
- :mod:`.build` — :func:`~.build.build_context`, which assembles them.

Nothing is imported here, so that :mod:`ketareport.figures` can use the
formats without loading the rest.
"""
