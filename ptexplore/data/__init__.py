"""DataLoader lab: an instrumented Dataset run through real DataLoaders in real worker
processes (started with ``forkserver``, always ended), worker seeds, ``random_split``'s
transform trap and ``ConcatDataset``'s index mapping. No Streamlit here.

Submodules are imported where needed (this package is imported by every worker process,
which should not pay for the page's figures):

* ``datasets`` — the Dataset classes, costs and ``worker_init_fn`` s workers unpickle;
* ``workers`` — the start method, per-run process accounting, one run per session;
* ``runs`` — run a lab script and leave no process behind;
* ``loader`` — the instrumented run (timeline, orders, prefetch);
* ``parallel`` — epochs of augmentation, worker seeds, the num_workers sweep;
* ``lessons`` — the Dataset pattern, the random_split trap, ConcatDataset;
* ``figures`` — the plotly dicts; ``startup`` — the start-method measurement;
* ``preload`` — what the forkserver imports (and warms up) once, before any worker.
"""
