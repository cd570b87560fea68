"""Schemathesis against the whole API (it needs no token), on SQLite and PostgreSQL: valid
and invalid requests from the OpenAPI document, each answer checked for a server error, a
status code the document does not list, and a body that breaks its schema."""

from __future__ import annotations

import os

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from todo.app import app

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
#: Requests per operation and generation mode: what bounds the run's time. FUZZ_EXAMPLES asks
#: for a longer run, with new random requests each time (the default run repeats the same ones).
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
RANDOM = "FUZZ_EXAMPLES" in os.environ


def fuzz() -> list[str]:
    """Every operation, valid and invalid requests; the failures, one line each."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        inputs = (operation.path_parameters, operation.query, operation.headers, operation.cookies)
        inputs += (operation.body,)
        # An operation that takes nothing (GET /ready) has no invalid request to make.
        modes = [GenerationMode.POSITIVE] + [GenerationMode.NEGATIVE] * any(map(len, inputs))
        for mode in modes:

            @given(case=operation.as_strategy(mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=not RANDOM,  # by default the same requests on every run: no flaky CI
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def check(case: schemathesis.Case) -> None:
                case.validate_response(case.call(), checks=CHECKS)

            try:
                check()
            # Schemathesis raises its findings as one group (a BaseExceptionGroup).
            except (Exception, BaseExceptionGroup) as failure:
                failures.append(f"{operation.label} ({mode}): {failure}")
    return failures


@pytest.mark.parametrize("migrate_base_url", ["sqlite", "postgres"], indirect=True)
def test_no_answer_is_a_server_error_or_breaks_the_openapi_document(client: TestClient) -> None:
    failures = fuzz()

    assert failures == [], "\n\n".join(failures)
