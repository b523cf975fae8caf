"""The stage commands, one module each: read their inputs (paths from lstmops.layout), call the
dataset's task (lstmops.tasks), write outputs and add them to MLflow.

The stages are the same for every task: what differs between tasks lives in lstmops.tasks.
"""
