"""Templates: operator overrides, sandboxing, folded subjects, errors with file and line."""
import pytest

from aftercare.config import load_config
from aftercare.samples import sample_outgoing
from aftercare.templates import TemplateProblem, Templates, bundled_directory

from test_config import GOOD, write


@pytest.fixture
def config(tmp_path):
    return load_config(write(tmp_path, GOOD))


def test_every_bundled_template_compiles_and_renders_with_sample_data(config):
    t = Templates()
    names = t.compile_all()
    assert {"customer/acknowledgment", "customer/staff_reply", "staff/new_case", "staff/customer_reply",
            "staff/bounce", "staff/delivery_failed", "staff/quarantined", "staff/unmatched"} <= set(names)
    rendered = {o.template: t.render(o.template, o.context) for o in sample_outgoing(config)}
    assert set(rendered) == set(names)
    for email in rendered.values():
        assert email.subject and "\n" not in email.subject and email.text.strip()


def test_the_acknowledgment_follows_complaint_handling_practice(config):
    out = next(o for o in sample_outgoing(config) if o.template == "customer/acknowledgment")
    email = Templates().render(out.template, out.context)
    text = email.text
    assert email.subject == "Re: Cracked kettle lid, order 10234 [Case #1042]"
    assert "Dear Maria," in text
    assert "Thank you" in text                       # thank them
    assert "sorry" in text                           # apologise
    assert "Jane Doe" in text                        # the owner is named and signs
    assert "within 24 hours" in text                 # a committed time
    assert "Case #1042" in text                      # the reference
    assert "what would put this right" in text       # ask what they want


def test_an_operator_template_overrides_the_bundled_one_by_name(tmp_path, config):
    (tmp_path / "customer").mkdir()
    (tmp_path / "customer" / "acknowledgment.txt").write_text("Subject: We hear you {{ case.ref }}\n\nHi {{ customer.first_name }}!\n")
    (tmp_path / "customer" / "acknowledgment.html").write_text("<p>Hi {{ customer.name }}</p>")
    t = Templates(tmp_path)
    ctx = next(o for o in sample_outgoing(config) if o.template == "customer/acknowledgment").context
    ctx = {**ctx, "customer": {**ctx["customer"], "name": "<script>x</script>"}}
    email = t.render("customer/acknowledgment", ctx)
    assert email.subject == "We hear you Case #1042" and email.text == "Hi Maria!\n"
    assert email.html == "<p>Hi &lt;script&gt;x&lt;/script&gt;</p>"   # HTML is autoescaped
    assert t.source_of("customer/staff_reply.txt").parent.parent == bundled_directory()


def test_customer_text_is_data_never_template_source(config):
    t = Templates()
    out = next(o for o in sample_outgoing(config) if o.template == "staff/new_case")
    ctx = {**out.context, "message": {**out.context["message"], "text": "{{ 7*7 }} {% for x in y %}"},
           "case": {**out.context["case"], "subject": "{{ 7*7 }}\r\nBcc: victim@example.org"}}
    email = t.render("staff/new_case", ctx)
    assert "{{ 7*7 }} {% for x in y %}" in email.text and "49" not in email.text
    assert "\n" not in email.subject and "\r" not in email.subject
    assert email.subject.endswith("{{ 7*7 }} Bcc: victim@example.org")


def test_a_syntax_error_names_the_file_and_line(tmp_path):
    (tmp_path / "staff").mkdir()
    (tmp_path / "staff" / "new_case.txt").write_text("Subject: x\n\nline 3\nline 4 {% if %}\n")
    with pytest.raises(TemplateProblem, match=r"staff/new_case.txt, line 4: "):
        Templates(tmp_path).compile_all()


def test_a_template_without_a_subject_line_is_refused(tmp_path):
    (tmp_path / "staff").mkdir()
    (tmp_path / "staff" / "new_case.txt").write_text("Hello {{ owner.name }}\n")
    with pytest.raises(TemplateProblem, match="Subject:"):
        Templates(tmp_path).compile_all()


def test_an_unknown_variable_is_an_error_not_a_blank(tmp_path, config):
    (tmp_path / "staff").mkdir()
    (tmp_path / "staff" / "new_case.txt").write_text("Subject: x\n\n{{ no_such_thing }}\n")
    with pytest.raises(TemplateProblem, match="no_such_thing"):
        Templates(tmp_path).render("staff/new_case", {})


def test_the_sandbox_refuses_attribute_escapes(tmp_path):
    (tmp_path / "staff").mkdir()
    (tmp_path / "staff" / "new_case.txt").write_text("Subject: x\n\n{{ ''.__class__.__mro__ }}\n")
    with pytest.raises(TemplateProblem):
        Templates(tmp_path).render("staff/new_case", {})


def test_a_render_error_names_the_file_and_the_line_it_is_on(tmp_path):
    """At send time the error says which file and line went wrong, not just which email: a missing attribute,
    a filter given the wrong type, a mistake in an included part, a syntax error found only then."""
    (tmp_path / "staff").mkdir()
    (tmp_path / "staff" / "new_case.txt").write_text(
        "Subject: Case {{ case.id }}\n\nHello,\n\n{% if case %}\n\n  {{ case.nonexistent.attr }}\n{% endif %}\n")
    t = Templates(tmp_path)
    with pytest.raises(TemplateProblem) as caught:
        t.render("staff/new_case", {"case": {"id": 7}})
    assert str(caught.value) == (f"{tmp_path}/staff/new_case.txt, line 7: 'dict object' has no attribute "
                                 "'nonexistent'")
    with pytest.raises(TemplateProblem, match=r"new_case.txt, line 1: 'case' is undefined$"):
        t.render("staff/new_case", {})  # the subject is line 1
    (tmp_path / "staff" / "sized.txt").write_text("Subject: x\n\n\n{{ size | filesize }}\n")
    with pytest.raises(TemplateProblem, match=r"sized.txt, line 4: ValueError: invalid literal for int\(\)"):
        t.render("staff/sized", {"size": "big"})
    (tmp_path / "staff" / "_part.txt").write_text("first\nsecond {{ missing_part }}\n")
    (tmp_path / "staff" / "outer.txt").write_text("Subject: x\n\n{% include 'staff/_part.txt' %}\n")
    with pytest.raises(TemplateProblem, match=r"staff/_part.txt, line 2: 'missing_part' is undefined$"):
        t.render("staff/outer", {})
    (tmp_path / "staff" / "_part.txt").write_text("first\n\nthird {% if %}\n")
    with pytest.raises(TemplateProblem, match=r"staff/_part.txt, line 3: Expected an expression"):
        Templates(tmp_path).render("staff/outer", {})


def test_an_html_alternative_names_its_own_file_and_line(tmp_path):
    (tmp_path / "staff").mkdir()
    (tmp_path / "staff" / "new_case.txt").write_text("Subject: x\n\nfine {{ name }}\n")
    (tmp_path / "staff" / "new_case.html").write_text("<p>\n{{ name }}\n{{ name.first.letter }}\n</p>\n")
    with pytest.raises(TemplateProblem, match=r"staff/new_case.html, line 3: 'str object' has no attribute"):
        Templates(tmp_path).render("staff/new_case", {"name": "Maria"})
    (tmp_path / "staff" / "new_case.html").write_text("<p>\n\n{% for %}\n")
    with pytest.raises(TemplateProblem, match=r"staff/new_case.html, line 3: "):
        Templates(tmp_path).compile_all()


def test_a_variable_no_email_has_is_named_with_the_line_that_uses_it(tmp_path):
    (tmp_path / "staff").mkdir()
    (tmp_path / "staff" / "new_case.txt").write_text("Subject: {{ case.ref }}\n\nHello\n\n{{ costumer.name }}\n")
    t = Templates(tmp_path)
    assert t.where_used("staff/new_case", "costumer") == f"{tmp_path}/staff/new_case.txt, line 5"
    assert t.where_used("staff/new_case", "case") == f"{tmp_path}/staff/new_case.txt, line 1"
