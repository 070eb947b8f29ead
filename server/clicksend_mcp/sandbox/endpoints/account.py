"""Account and utility endpoints: GET /account and GET /countries."""

from __future__ import annotations

import copy

from ..call import Call
from ..envelope import Reply
from ..reference import countries_payload
from ..routing import Route, route


@route("GET", "/account")
def get_account(call: Call) -> Reply:
    account = copy.deepcopy(call.state.account)
    if call.caller.no_credit:
        account.update(username="nocredit", balance="0.00")
        account["_subaccount"]["api_username"] = "nocredit"
    return Reply(account, "Here's your account.")


@route("GET", "/countries")
def get_countries(_call: Call) -> Reply:
    return Reply(countries_payload(), "List of Countries.")


ROUTES: list[Route] = [get_account, get_countries]
