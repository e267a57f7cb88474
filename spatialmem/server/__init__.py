"""HTTP API, live streaming sessions and the web viewer (``spatialmem serve``; needs ``spatialmem[server]``).

Modules: :mod:`.config` (settings and limits), :mod:`.library` (memories under the configured roots, loaded
once and shared read-only), :mod:`.sessions` (live sessions around the memory builder's streaming ``step()``),
:mod:`.frames` (uploaded frames -> :class:`~spatialmem.types.Frame`), :mod:`.queries` (programs, questions and
renders over a memory), :mod:`.problems` (errors as RFC 9457 problem details), :mod:`.security` (bearer token
and upload-size limit), :mod:`.app` (the FastAPI application), ``static/`` (the viewer; three.js vendored).
"""
