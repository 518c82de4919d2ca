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
    rendered = {o.template: t.render(o.template, o.context) for o in sample_outgoing(config) if o.template in names}
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


# --- languages (issue 17) -------------------------------------------------------------------------------------

def _ack_context(config, urgent=False):
    out = next(o for o in sample_outgoing(config)
               if o.template == "customer/acknowledgment" and o.context.get("urgent") is urgent)
    return out.context


def test_a_language_variant_is_looked_up_operator_first_then_bundled_then_the_base(tmp_path, config):
    ctx = _ack_context(config)
    bundled = Templates().render("customer/acknowledgment", ctx, language="de")
    assert bundled.language == "de" and "Spätestens 24 Stunden nach Ihrer Nachricht" in bundled.text
    assert "Guten Tag Maria" in bundled.text
    (tmp_path / "de" / "customer").mkdir(parents=True)
    (tmp_path / "de" / "customer" / "acknowledgment.txt").write_text("Subject: Danke {{ case.ref }}\n\nServus!\n")
    own = Templates(tmp_path).render("customer/acknowledgment", ctx, language="de")
    assert (own.subject, own.text, own.language) == ("Danke Case #1042", "Servus!\n", "de")
    # Italian has no templates: the default language's (English, bundled) is sent, and says so.
    italian = Templates(tmp_path).render("customer/acknowledgment", ctx, language="it")
    assert italian.language == "en" and "within 24 hours" in italian.text
    # With German as the default, an Italian customer gets the German one.
    assert Templates(tmp_path).render("customer/acknowledgment", ctx, "it", default_language="de").text == "Servus!\n"


def test_the_operator_s_base_template_is_in_the_default_language(tmp_path, config):
    ctx = _ack_context(config)
    (tmp_path / "customer").mkdir()
    (tmp_path / "customer" / "acknowledgment.txt").write_text("Subject: Hallo\n\nUnser eigener Text, {{ promise }}.\n")
    t = Templates(tmp_path)
    german = t.render("customer/acknowledgment", ctx, language="de", default_language="de")
    assert (german.text, german.language) == ("Unser eigener Text, 24 Stunden.\n", "de")
    english = t.render("customer/acknowledgment", ctx, language="en", default_language="de")
    assert english.language == "en" and "within 24 hours" in english.text  # the bundled English, not the German
    assert t.has_language("customer/acknowledgment", "de", "de") and t.has_language("customer/acknowledgment", "en")
    assert not t.has_language("customer/acknowledgment", "it", "de")
    assert t.has_language("customer/acknowledgment", "fr") and not t.has_language("staff/new_case", "fr")


def test_names_are_base_names_and_variants_are_listed_apart(tmp_path):
    (tmp_path / "de" / "customer").mkdir(parents=True)
    (tmp_path / "de" / "customer" / "acknowledgment.txt").write_text("Subject: x\n\ny\n")
    t = Templates(tmp_path)
    assert "customer/acknowledgment" in t.names() and not any(n.startswith(("de/", "fr/", "es/")) for n in t.names())
    assert {("de", "customer/acknowledgment"), ("fr", "customer/plan"), ("es", "customer/checkin")} <= set(t.variants())
    assert t.languages_of("customer/acknowledgment") == ["de", "es", "fr"]


def test_every_bundled_variant_renders_in_its_language(config):
    t = Templates()
    written = {"de": ("Stunden", "März 2026"), "fr": ("heures", "mars 2026"), "es": ("horas", "marzo de 2026")}
    for out in sample_outgoing(config):
        for language in t.languages_of(out.template):
            email = t.render(out.template, out.context, language=language)
            assert email.language == language
            assert " hours" not in email.text and " Mar 2026" not in email.text, (out.template, language)
    plan = next(o for o in sample_outgoing(config) if o.template == "customer/plan")
    for language, (hours, month) in written.items():
        assert month in t.render("customer/plan", plan.context, language=language).text
        assert hours in t.render("customer/acknowledgment", _ack_context(config), language=language).text
    assert "offer" not in t.render("customer/acknowledgment", _ack_context(config), language="de").text
    urgent = t.render("customer/acknowledgment", _ack_context(config, urgent=True), language="de").text
    assert "rufe ich Sie gern an" in urgent


def test_filters_follow_the_render_language(tmp_path):
    from datetime import date, datetime
    for folder in ("staff", "de/staff", "fr/staff", "es/staff"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "f.txt").write_text("Subject: x\n\n{{ when | datetime }}|{{ when | date }}|{{ day | date }}|"
                                                 "{{ size | filesize }}|{{ n | number }}|{{ when | datetime('%d %B') }}\n")
    t = Templates(tmp_path, "Europe/Berlin")
    ctx = {"when": datetime(2026, 3, 4, 9, 5), "day": date(2026, 3, 4), "size": 184_320, "n": 1234.5}
    assert t.render("staff/f", ctx).text == ("Wed 04 Mar 2026, 10:05 CET|Wed 04 Mar 2026|Wed 04 Mar 2026|180.0 KB|"
                                             "1,234.5|04 March\n")
    assert t.render("staff/f", ctx, language="de").text == (
        "Mittwoch, 4. März 2026, 10:05 MEZ|Mittwoch, 4. März 2026|Mittwoch, 4. März 2026|180,0 KB|1.234,5|04 März\n")
    fr = t.render("staff/f", ctx, language="fr").text.replace("\u00a0", " ").replace("\u202f", " ")
    assert fr == "mercredi 4 mars 2026, 10:05 (heure normale d’Europe centrale)|mercredi 4 mars 2026|mercredi 4 mars 2026|180,0 KB|1 234,5|04 mars\n"
    es = t.render("staff/f", ctx, language="es").text
    assert es.startswith("miércoles, 4 de marzo de 2026, 10:05 CET|miércoles, 4 de marzo de 2026|")
    # A language without templates of its own renders the English ones, in English formats.
    assert t.render("staff/f", ctx, language="it").language == "en"


def test_validation_renders_every_variant_and_names_a_broken_one(tmp_path, config):
    from aftercare.samples import validate_templates
    assert "customer/acknowledgment" in validate_templates(config, Templates())
    (tmp_path / "fr" / "customer").mkdir(parents=True)
    broken = tmp_path / "fr" / "customer" / "plan.txt"
    broken.write_text("Subject: {{ case.ref }}\n\nBonjour,\n{{ steps[0].nonexistent.attr }}\n")
    with pytest.raises(TemplateProblem, match=rf"^{broken}, line 4: "):
        validate_templates(config, Templates(tmp_path))
    broken.write_text("Subject: x\n\n{{ costumer.name }}\n")
    with pytest.raises(TemplateProblem, match=rf"^{broken}, line 3: uses costumer"):
        validate_templates(config, Templates(tmp_path))
    broken.write_text("Subject: x\n\n{% if %}\n")
    with pytest.raises(TemplateProblem, match=rf"^{broken}, line 3: "):
        validate_templates(config, Templates(tmp_path))
    broken.unlink()
    (tmp_path / "fr" / "customer" / "typo.txt").write_text("Subject: x\n\ny\n")
    with pytest.raises(TemplateProblem, match=r"fr/customer/typo.txt: Aftercare sends no email named 'customer/typo'"):
        validate_templates(config, Templates(tmp_path))


def test_samples_cover_the_triage_variables(config):
    outs = sample_outgoing(config)
    assert {o.context["urgent"] for o in outs if o.template == "customer/acknowledgment"} == {False, True}
    new_case = [o.context for o in outs if o.template == "staff/new_case"]
    assert new_case[0]["language"] == {"code": "fr", "name": "French", "templates": True}
    assert new_case[0]["tone"]["level"] == "angry" and new_case[0]["priority"] == "urgent"
    assert any(c["tone"] is None for c in new_case)
    urgent = next(o for o in outs if o.template == "staff/urgent")
    assert urgent.context["tone"]["signals"] == ["threatens a chargeback", "writes in capitals"]
