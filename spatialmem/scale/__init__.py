"""Scale-out: executors that run one task per scene (a local process pool or a Ray cluster) and the
content-addressed memory cache that lets a rerun skip every scene it has already ingested."""
