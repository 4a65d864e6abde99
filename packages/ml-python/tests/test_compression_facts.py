"""Compression keeps the facts whole and the structure intact, for every method."""

import time

import numpy as np
import pytest

from tokenflow_ml.compression import DistilledCompressor, LLMLingua2Compressor
from tokenflow_ml.compression.evaluate import evaluate, read_documents
from tokenflow_ml.compression.spans import find_spans
from tokenflow_ml.schemas import CompressRequest
from tokenflow_ml.settings import bundled_minilm


def spans_of(text: str) -> list[str]:
    return [text[s.start : s.end] for s in find_spans(text)]


@pytest.mark.parametrize(
    "fact",
    [
        "£412.6 million",
        "-15 °C",
        "€7,500",
        "$296.0 million to $300.0 million",
        "99.5 percent",
        "4,87 Mio. €",
        "4.2p per share",
        "17. Oktober 2025",
        "15 de diciembre de 2024",
        "8 September 2024",
        "2 hours and 47 minutes",
        "14:30 CET",
        "CX-2291",
        "acct_7Hq2LmP9",
        "req_01JHX9Q2T7",
        "v2.14.3",
        "/etc/shipyard/shipyard.toml",
        "https://status.example.com/incidents/42",
        "ops-team@example.com",
        "SHIPYARD_CONFIG_PATH",
        "parse_config(path, strict=False)",
        "Migrator.apply()",
        "Kenji Watanabe",
        "María José Sánchez Robles",
        "Nordhafen Logistik GmbH",
        "DE89 3704 0044 0532 0130 00",
        "+44 20 7946 0958",
        "§ 12 Abs. 3",
        "HRB 98765",
        "donderdag 3 april 2025",
        "il 21 giugno 2024",
        "15 de dezembro de 2025",
        "Wed, 5 Mar 2025 10:02:11 +0100",
        "helm upgrade api ./chart --atomic",
        "pip install requests==2.32.3",
        "ghcr.io/acme/api:1.4.0-slim",
        "requests.exceptions.ReadTimeout",
        "def merge(a: list[int], b: list[int]) -> list[int]",
        "~120 ms p95",
        "R$ 4,5 milhões",
        "\u20138,3 %",  # an en dash as the minus sign
        "tra 3 e 5 giorni",
        "between 2 and 3 weeks",
        "11/03/2025 at 14:20",
    ],
)
def test_a_fact_is_found_as_one_whole_span(fact):
    text = f"As noted in the minutes, {fact} was mentioned twice by the team."

    assert fact in spans_of(text)


def test_sentence_openers_are_not_part_of_a_name():
    assert "Harbour Authority" in spans_of("The Harbour Authority approved it.")


@pytest.mark.parametrize(
    ("sentence", "fact"),
    [
        (
            "The quarter closed with an EBITDA margin of 14.8%, below plan.",
            "EBITDA margin of 14.8%",
        ),
        ("It was fixed in commit 9f2c4e1 yesterday.", "commit 9f2c4e1"),
        ("Please update to firmware 3.8.1 before Monday.", "firmware 3.8.1"),
        ("De levering van 12 pallets is te laat.", "levering van 12 pallets"),
        ("La limite est de 120 requêtes par minute.", "120 requêtes par minute"),
        ("Seen today under MRN 00482-7731.", "MRN 00482-7731"),
        ("Pagamento dell'ordine n. 4471-IT-20931 ricevuto.", "ordine n. 4471-IT-20931"),
    ],
)
def test_an_amount_or_a_code_keeps_the_words_that_say_what_it_is(sentence, fact):
    assert fact in spans_of(sentence)


def test_a_label_stops_at_a_clause_break_and_at_function_words():
    assert "14.8%" in spans_of("Margins fell, 14.8% in the end.")
    assert "41 pallets" in spans_of("We had 41 pallets in the yard.")


def test_labels_never_chain_facts_into_one_span():
    spans = spans_of("Berlin 12 pallets " * 50)

    assert len(spans) >= 50 and max(map(len, spans)) < 30


def test_a_year_counts_nothing():
    assert "2024" in spans_of("In 2024 revenue grew strongly.")


@pytest.mark.parametrize(
    "text",
    ["a-" * 25_000, "1-" * 25_000, "a." * 25_000, "a=" * 25_000, "Abc " * 12_500, "1 " * 25_000],
)
def test_adversarial_text_is_scanned_in_linear_time(text):
    # A hang guard, not a speed claim: unbounded patterns took 30-85 s on these 50,000
    # characters; the bounded ones take about a second on two noisy cores.
    started = time.perf_counter()
    spans = find_spans(text)

    assert time.perf_counter() - started < 20
    assert all(s.end - s.start <= 300 for s in spans)


def test_a_proper_noun_takes_the_nouns_it_qualifies_outside_german():
    assert "Lisbon office" in spans_of("We moved the team to the Lisbon office last spring.")
    # Two names in a short English line are not German nouns.
    assert "Brexit" in " ".join(spans_of("I called Monday morning and the Brexit team answered"))
    # German capitalises every noun, so a capital inside a sentence is no sign of a name.
    german = "Wir haben das Lager in der Halle gestern geprüft und die Ware gezählt."
    assert not any(s.kind == "name" for s in find_spans(german))


@pytest.fixture(scope="module")
def llmlingua2(tiny_models):
    return LLMLingua2Compressor(tiny_models["llmlingua2"])


TRANSCRIPT = "\n".join(
    [
        "# Weekly sync",
        "",
        "Dana Whitfield: Thanks everyone for joining, let us get going with the budget review "
        "because we have a lot to cover today and not much time.",
        "Kenji Watanabe: Sure. The vendor quote came in at €7,500 which is, honestly, more than "
        "we had hoped for, but it is still within the range we discussed last month.",
        "- Action: Kenji Watanabe to confirm the quote by 8 September 2024",
        "- Action: Dana Whitfield to update the forecast in the shared spreadsheet",
        "",
        "```python",
        "def parse_config(path, strict=False):",
        "    return load(path)",
        "```",
        "",
        "Dana Whitfield: Great, that is all for today, thanks again and see you next week.",
    ]
)


def test_speaker_labels_list_items_and_headings_keep_their_own_lines(llmlingua2):
    result = llmlingua2.compress(CompressRequest(text=TRANSCRIPT, ratio=0.5))
    lines = result.compressed_text.splitlines()

    assert any(line.startswith("Kenji Watanabe:") for line in lines)
    assert any(line.startswith("- ") for line in lines)
    assert not any("Whitfield: " in line and "Watanabe:" in line for line in lines)


@pytest.mark.parametrize("ratio", [0.7, 0.5, 0.3])
def test_a_code_block_is_kept_whole_or_dropped_whole(llmlingua2, ratio):
    block = TRANSCRIPT[TRANSCRIPT.index("```python") : TRANSCRIPT.rindex("```") + 3]

    result = llmlingua2.compress(CompressRequest(text=TRANSCRIPT, ratio=ratio))

    assert block in result.compressed_text or "def parse_config" not in result.compressed_text


def test_preserve_false_lets_the_model_cut_facts(llmlingua2):
    text = " ".join(["The quote was €7,500 and Kenji Watanabe signed on 8 September 2024."] * 30)

    kept = llmlingua2.compress(CompressRequest(text=text, ratio=0.3))
    cut = llmlingua2.compress(CompressRequest(text=text, ratio=0.3, preserve=False))

    assert "8 September 2024" in kept.compressed_text
    assert kept.compressed_text.count("€7,500") >= cut.compressed_text.count("€7,500")


def test_a_question_keeps_the_passage_that_answers_it(llmlingua2):
    passages = [
        f"[{i}] Passage about harbour dredging schedules, tides and crane maintenance."
        for i in range(1, 6)
    ]
    answer = "[6] The new maximum draught at Berth 7 is 12.8 metres from 1 March 2025."
    text = "\n\n".join([*passages[:3], answer, *passages[3:]] * 3)

    result = llmlingua2.compress(
        CompressRequest(text=text, ratio=0.3, question="What is the maximum draught at Berth 7?")
    )

    assert "12.8 metres" in result.compressed_text
    assert "1 March 2025" in result.compressed_text


# The held-out documents (data/compression/test, written apart from the code, never used
# to tune it). Facts survive mostly because they are protected, so the word scorer matters
# little here: LLMLingua-2 runs on the tests' tiny random weights, the offline default
# (MiniLM distilled from SmolLM2) on its real ones. Measured 2026-12-02 on 143 facts:
# LLMLingua-2 137 (95.8%) at 0.5 and 122 (85.3%) at 0.3; the default 137 (95.8%) and
# 120 (83.9%); short of the goal (98% / 95%). Each floor sits about the 95% interval's
# half-width below its figure (3 points at 0.5, 6 at 0.3), so a regression fails and a
# one-fact wobble does not.
FLOORS = {"llmlingua2": {0.5: 0.92, 0.3: 0.78}, "distilled": {0.5: 0.92, 0.3: 0.78}}


@pytest.fixture(scope="module")
def distilled():
    return DistilledCompressor(bundled_minilm(), threads=2)


@pytest.mark.parametrize("method", sorted(FLOORS))
@pytest.mark.parametrize("ratio", [0.5, 0.3])
def test_the_held_out_documents_keep_their_facts_at_the_requested_size(
    request, method, ratio, capsys
):
    compressor = request.getfixturevalue(method)

    report = evaluate(compressor, read_documents("test"), ratio, preserve=True, question=False)

    with capsys.disabled():
        print(
            f"\n{method} facts at ratio {ratio}: {report['facts_kept']}/{report['facts']} "
            f"({report['fact_share']:.1%}), median ratio error {report['median_ratio_error']:.1%}"
        )
    assert report["fact_share"] >= FLOORS[method][ratio]
    assert report["max_ratio_error"] <= 0.10


def test_the_fit_never_goes_over_the_budget_even_when_word_costs_are_underestimated():
    from tokenflow_ml.compression.budget import select
    from tokenflow_ml.compression.layout import layout, render

    text = "\n".join(f"CX-{1000 + i}" for i in range(200))
    doc = layout(text, find_spans(text))

    def count(s: str) -> int:
        return 2 * len(s.split())  # twice what the per-word estimate below says

    scores = np.random.default_rng(0).random(len(doc.starts))
    keep = select(doc, scores, count, np.ones(len(doc.starts), dtype=np.int64), 100)

    assert 90 <= count(render(doc, keep)) <= 100


def test_force_reserve_digit_keeps_every_number_even_when_their_labels_do_not_fit(llmlingua2):
    notes = (
        "The team met on Monday to review the Q3 budget of 48,500 dollars. Revenue grew "
        "12 percent. Action items: Alice owns the launch plan, Bob reviews the contract. "
    )
    result = llmlingua2.compress(
        CompressRequest(
            text=notes * 20, ratio=0.4, force_tokens=["Alice"], force_reserve_digit=True
        )
    )

    assert result.compressed_text.count("48,500") == 20
    assert result.compressed_text.count("12") == 20
    assert result.compressed_text.count("Alice") == 20
    assert result.compressed_tokens <= round(0.4 * result.origin_tokens)
