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
    with pytest.raises(TemplateProblem, match=r"staff/new_case.txt:4:"):
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
