"""The generated Python models (datamodel-code-generator: pydantic models from the document)
refuse, before anything is sent, a request the server would refuse for a declared limit.

    python clients/refuse.py <directory holding the generated dvk_models.py>
"""

import sys

sys.path.insert(0, sys.argv[1])

from pydantic import ValidationError  # noqa: E402

from dvk_models import CreateDecision, CreateWebhook  # noqa: E402

cases = [
    ("a 65-character decision number", lambda: CreateDecision(
        issuing_authority="party_committee_standing_board", authority_title="Ban Thường vụ Tỉnh ủy",
        form="giay_khen", number="1" * 65, decided_on="2024-12-20")),
    ("a subscription to 21 events", lambda: CreateWebhook(
        url="https://portal.example/hook", events=["model.registered"] * 21)),
]
failed = 0
for name, build in cases:
    try:
        build()
        print(f"FAIL the Python models took {name}")
        failed += 1
    except ValidationError:
        print(f"ok   the Python models refuse {name}")
# And a request within the limits is built.
CreateDecision(issuing_authority="party_committee_standing_board", authority_title="Ban Thường vụ Tỉnh ủy",
               form="giay_khen", number="13-QĐ/ĐUK", decided_on="2024-12-20")
print(f"{len(cases) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
