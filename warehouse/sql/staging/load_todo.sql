-- Documents whose rows must be (re)stored: only these are flattened into cells.
SELECT batch_pos FROM load_batch WHERE action IN ('new', 'updated') ORDER BY batch_pos;
