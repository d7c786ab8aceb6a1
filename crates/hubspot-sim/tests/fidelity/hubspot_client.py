"""Fidelity check: HubSpot's official Python client (PyPI `hubspot-api-client`) against the
simulator. Creates, batch-upserts by a custom unique property, searches, associates and
manages properties; exits non-zero on the first mismatch.

Usage: HUBSPOT_BASE_URL=http://127.0.0.1:PORT HUBSPOT_TOKEN=sim-token python3 hubspot_client.py
"""

import os
import sys

import hubspot
from hubspot.crm.associations.v4 import AssociationSpec
from hubspot.crm.contacts import (
    BatchInputSimplePublicObjectBatchInputUpsert,
    Filter,
    FilterGroup,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInputUpsert,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.contacts.exceptions import ApiException
from hubspot.crm.properties import PropertyCreate


def check(condition, message):
    if not condition:
        print(f"FAIL: {message}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {message}")


def main():
    client = hubspot.Client.create(
        access_token=os.environ["HUBSPOT_TOKEN"], host=os.environ["HUBSPOT_BASE_URL"]
    )

    prop = client.crm.properties.core_api.create(
        object_type="contacts",
        property_create=PropertyCreate(
            name="ext_id", label="External id", type="string", field_type="text",
            group_name="contactinformation", has_unique_value=True,
        ),
    )
    check(prop.name == "ext_id" and prop.has_unique_value, "a unique property is created")
    names = [p.name for p in client.crm.properties.core_api.get_all(object_type="contacts").results]
    check("email" in names and "ext_id" in names, "properties are listed")

    created = client.crm.contacts.basic_api.create(
        simple_public_object_input_for_create=SimplePublicObjectInputForCreate(
            properties={"email": "fidelity@example.com", "firstname": "Fi"}
        )
    )
    check(isinstance(created.id, str) and created.properties["firstname"] == "Fi", "a contact is created")
    fetched = client.crm.contacts.basic_api.get_by_id(
        contact_id=created.id, properties=["email", "firstname"], properties_with_history=["firstname"]
    )
    check(fetched.properties["email"] == "fidelity@example.com", "a contact is read back")
    check(fetched.properties_with_history["firstname"][0].source_type == "API", "history says API")

    try:
        client.crm.contacts.basic_api.create(
            simple_public_object_input_for_create=SimplePublicObjectInputForCreate(
                properties={"email": "fidelity@example.com"}
            )
        )
        check(False, "a duplicate email is refused")
    except ApiException as err:
        check(err.status == 409 and "Existing ID" in err.body, "a duplicate email is refused with 409")

    inputs = [
        SimplePublicObjectBatchInputUpsert(id=f"E{i}", id_property="ext_id", properties={"lastname": f"L{i}"})
        for i in range(20)
    ]
    upserted = client.crm.contacts.batch_api.upsert(
        batch_input_simple_public_object_batch_input_upsert=BatchInputSimplePublicObjectBatchInputUpsert(inputs=inputs)
    )
    check(len(upserted.results) == 20 and all(r.new for r in upserted.results), "a batch upsert creates")
    again = client.crm.contacts.batch_api.upsert(
        batch_input_simple_public_object_batch_input_upsert=BatchInputSimplePublicObjectBatchInputUpsert(inputs=inputs[:5])
    )
    check(not any(r.new for r in again.results), "a repeated batch upsert updates")

    search = client.crm.contacts.search_api.do_search(
        public_object_search_request=PublicObjectSearchRequest(
            filter_groups=[FilterGroup(filters=[Filter(property_name="lastname", operator="EQ", value="l3")])],
            properties=["lastname", "ext_id"], limit=10,
        )
    )
    check(search.total == 1 and search.results[0].properties["ext_id"] == "E3", "search finds by a filter")

    company = client.crm.companies.basic_api.create(
        simple_public_object_input_for_create={"properties": {"name": "Fidelity Inc"}}
    )
    client.crm.associations.v4.basic_api.create(
        object_type="contacts", object_id=created.id, to_object_type="companies", to_object_id=company.id,
        association_spec=[AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=1)],
    )
    page = client.crm.associations.v4.basic_api.get_page(
        object_type="contacts", object_id=created.id, to_object_type="companies"
    )
    type_ids = sorted(t.type_id for t in page.results[0].association_types)
    check(str(page.results[0].to_object_id) == company.id and type_ids == [1, 279], "associations are made and listed")
    client.crm.associations.v4.basic_api.create_default(
        from_object_type="deals", from_object_id=client.crm.deals.basic_api.create(
            simple_public_object_input_for_create={"properties": {"dealname": "D", "pipeline": "default", "dealstage": "s"}}
        ).id, to_object_type="companies", to_object_id=company.id,
    )
    check(True, "a default association is made")
    print("all checks passed")


if __name__ == "__main__":
    main()
