"""A script written against the generated Python client (openapi-python-client): a province and a
commune are created, the province launches a campaign, the commune registers a model, the
province accepts it, and the model is listed. CI runs it against a live server on SQLite and on
PostgreSQL: the client must work as generated, with no hand edits.

    python3 clients/scenario.py http://127.0.0.1:18080 <admin token of VN> <token minting command>
"""
import datetime
import subprocess
import sys

from dvk_client import AuthenticatedClient
from dvk_client.api.campaigns import create_campaign, launch_campaign
from dvk_client.api.models import accept_model, create_model, list_models, submit_model
from dvk_client.api.units import create_unit
from dvk_client.models import (
    CreateCampaign,
    CreateModel,
    CreateUnit,
    Field,
    Level,
    ModelKind,
    ModelStatus,
    Subject,
    UnitKind,
)

ROOT = "0190c000-0000-7000-8000-000000000001"


def ok(response, status):
    assert response.status_code == status, f"{response.status_code}: {response.content!r}"
    return response.parsed


def main(base: str, mint: str) -> None:
    def client(unit: str, level: str, roles: str) -> AuthenticatedClient:
        token = subprocess.check_output([*mint.split(), "--unit", unit, "--level", level, "--roles", roles], text=True).strip()
        return AuthenticatedClient(base_url=base, token=token, raise_on_unexpected_status=True)

    national = client("VN", "central", "admin")
    province = ok(create_unit.sync_detailed(client=national, body=CreateUnit(
        code="CI01", name="Tỉnh Kiểm Thử", kind=UnitKind.LOCALITY, level=Level.PROVINCE, parent_id=ROOT)), 201)
    commune = ok(create_unit.sync_detailed(client=national, body=CreateUnit(
        code="CI0101", name="Xã Kiểm Thử", kind=UnitKind.LOCALITY, level=Level.COMMUNE, parent_id=province.id)), 201)

    editor = client("CI01", "province", "editor,reviewer")
    campaign = ok(create_campaign.sync_detailed(client=editor, body=CreateCampaign(
        code="01-KH/CI", title="Dân vận khéo kiểm thử", starts_on=datetime.date(2026, 1, 1), ends_on=datetime.date(2026, 12, 31))), 201)
    ok(launch_campaign.sync_detailed(campaign.id, client=editor, if_match='"1"'), 200)

    commune_editor = client("CI0101", "commune", "editor")
    model = ok(create_model.sync_detailed(client=commune_editor, body=CreateModel(
        campaign_id=campaign.id, title="Dân vận khéo làm đường", subject=Subject.COLLECTIVE,
        kind=ModelKind.BY_FIELD, field=Field.ECONOMY, registered_level=Level.PROVINCE, year=2026)), 201)
    assert model.status == ModelStatus.DRAFT
    registered = ok(submit_model.sync_detailed(model.id, client=commune_editor, if_match='"1"'), 200)
    assert registered.status == ModelStatus.REGISTERED
    accepted = ok(accept_model.sync_detailed(model.id, client=editor, if_match='"2"'), 200)
    assert accepted.status == ModelStatus.IN_PROGRESS

    page = ok(list_models.sync_detailed(client=editor, status=ModelStatus.IN_PROGRESS, field=Field.ECONOMY), 200)
    assert [m.id for m in page.items] == [model.id], page.items
    print(f"python client scenario: registered, accepted and listed model {model.id}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
