"""The generated Python client against a live hub: as the operator create a customer, post a
report with its key, read the 24 h history, post events and page through them with the cursor.

Run by `cargo xtask test` with FELHOM_URL and FELHOM_PASSWORD set and the generated package
`felhom_hub_client` on PYTHONPATH.
"""

import os
import sys

from felhom_hub_client import AuthenticatedClient, Client
from felhom_hub_client.api.auth import login
from felhom_hub_client.api.configs import create_config
from felhom_hub_client.api.customers import get_history
from felhom_hub_client.api.events import list_customer_events, post_event
from felhom_hub_client.api.reports import post_report
from felhom_hub_client.types import UNSET
from felhom_hub_client.models import (
    ConfigCreated,
    CreateConfigRequest,
    EventIn,
    EventPage,
    Health,
    History,
    LoginRequest,
    Period,
    ReportAccepted,
    ReportIn,
    SessionInfo,
)

URL = os.environ["FELHOM_URL"]
CUSTOMER = "py-client"


def expect(response, kind):
    if response.status_code >= 300 or not isinstance(response.parsed, kind):
        sys.exit(f"{response.status_code}: {response.content[:300]!r}")
    return response.parsed


# The operator signs in; the session cookie and the CSRF token go with every later call.
signed_in = login.sync_detailed(client=Client(base_url=URL), body=LoginRequest(password=os.environ["FELHOM_PASSWORD"]))
session = expect(signed_in, SessionInfo)
cookie = signed_in.headers["set-cookie"].split(";")[0]
operator = AuthenticatedClient(
    base_url=URL, token=cookie, prefix="", auth_header_name="Cookie", headers={"X-CSRF-Token": session.csrf_token}
)

created = expect(
    create_config.sync_detailed(client=operator, body=CreateConfigRequest(customer_id=CUSTOMER, display_name="Py")),
    ConfigCreated,
)

# The customer's controller posts a report with its own key, then reads its history.
controller = AuthenticatedClient(base_url=URL, token=created.api_key)
accepted = expect(
    post_report.sync_detailed(client=controller, body=ReportIn(customer_id=CUSTOMER, health=Health.OK)), ReportAccepted
)
assert accepted.ok and not accepted.customer_blocked
history = expect(get_history.sync_detailed(CUSTOMER, client=controller, period=Period("24h")), History)
assert history.period == Period("24h") and history.customer_id == CUSTOMER, history
assert sum(p.reports for p in history.points) == 1, history.points

for n in range(5):
    event = EventIn(customer_id=CUSTOMER, event_type="backup_completed", severity="info", message=f"run {n}")
    expect(post_event.sync_detailed(client=controller, body=event), object)

# The operator pages through the events, newest first, two at a time.
seen, before = [], UNSET
while True:
    page = expect(
        list_customer_events.sync_detailed(CUSTOMER, client=operator, limit=2, before=before), EventPage
    )
    seen += [e.message for e in page.events]
    if not isinstance(page.next_before, int):
        break
    before = page.next_before
assert seen == [f"run {n}" for n in reversed(range(5))], seen
print(f"python client: created {CUSTOMER}, posted a report, read {len(history.points)} history point, paged 5 events")
