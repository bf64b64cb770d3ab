"""Signs in as the operator and prints the session cookie's value and the CSRF token, for the
schemathesis run with an operator session. FELHOM_URL and FELHOM_PASSWORD name the hub."""

import json
import os
import urllib.request

request = urllib.request.Request(
    os.environ["FELHOM_URL"] + "/api/v1/auth/login",
    data=json.dumps({"password": os.environ["FELHOM_PASSWORD"]}).encode(),
    headers={"Content-Type": "application/json"},
)
with urllib.request.urlopen(request) as response:
    cookie = response.headers["Set-Cookie"].split(";")[0]
    print(cookie.split("=", 1)[1], json.load(response)["csrf_token"])
