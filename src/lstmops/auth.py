"""The team server's MLflow app: MLflow's basic-auth app, with the model registry's writes tightened.

MLflow lets anyone with EDIT on a registered model add versions and move its aliases, and anyone at
all create a registered model (and so own it). Here all of those need MANAGE on the model's name: `make serve`, `predict` and the Spark UDF load `@champion`, and a pyfunc model is
unpickled when it loads, so whoever moves the alias chooses the code the serving host runs.
`mlflow server --app-name lstmops-auth` loads it (the entry point is in pyproject.toml).
"""

from __future__ import annotations

from collections.abc import Callable

from mlflow.server import auth

# MLflow's validators of the registry writes that decide what is served.
GUARDED = (
    auth.validate_can_create_registered_model,
    auth.validate_can_create_model_version,
    auth.validate_can_set_model_or_prompt_version_alias,
    auth.validate_can_delete_model_or_prompt_version_alias,
)


def needs_manage(validator: Callable[[], bool]) -> Callable[[], bool]:
    """`validator`, and MANAGE on the registered model the request names."""

    def validate() -> bool:
        return (
            validator() and auth._get_permission_from_registered_model_or_prompt_name().can_manage
        )

    return validate


def create_app(app=auth.app):
    """MLflow's basic-auth app with the registry's versions and aliases writable only with MANAGE."""
    for route, validator in list(auth.BEFORE_REQUEST_VALIDATORS.items()):
        if validator in GUARDED:
            auth.BEFORE_REQUEST_VALIDATORS[route] = needs_manage(validator)
    return auth.create_app(app)
