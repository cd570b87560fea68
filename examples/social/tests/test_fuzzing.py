"""Schemathesis against the whole API, anonymous and with a bearer token, on SQLite and
PostgreSQL: valid and invalid requests from the OpenAPI document, each answer checked for a
server error, a status code the document does not list, and a body that breaks its schema."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

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

from social.app import app

if TYPE_CHECKING:
    from conftest import LoggedInUser

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


def fuzz(headers: dict[str, str]) -> list[str]:
    """Every operation, valid and invalid requests; the failures, one line each."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=not RANDOM,  # by default the same requests on every run: no flaky CI
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def check(case: schemathesis.Case) -> None:
                sent = dict(headers)  # schemathesis adds its own to the dict it is given
                response = case.call(headers=sent)
                case.validate_response(response, checks=CHECKS, headers=sent)

            try:
                check()
            # Schemathesis raises its findings as one group (a BaseExceptionGroup).
            except (Exception, BaseExceptionGroup) as failure:
                failures.append(f"{operation.label} ({mode}): {failure}")
    return failures


@pytest.mark.parametrize("migrate_base_url", ["sqlite", "postgres"], indirect=True)
@pytest.mark.parametrize("caller", ["anonymous", "bearer"])
def test_no_answer_is_a_server_error_or_breaks_the_openapi_document(
    client: TestClient, user: LoggedInUser, caller: str
) -> None:
    failures = fuzz(user.headers if caller == "bearer" else {})

    assert failures == [], "\n\n".join(failures)
