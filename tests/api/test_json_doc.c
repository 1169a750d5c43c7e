#include <criterion/criterion.h>
#include "json_doc.h"
Test(json_doc, placeholder_parse_should_accept_an_object)
{
    json_doc d;
    json_error e;
    cr_assert_eq(json_doc_parse(&d, "{}", 2, NULL, &e), JSON_OK);
    json_doc_release(&d);
}
