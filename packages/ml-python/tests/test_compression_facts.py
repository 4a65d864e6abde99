"""Compression keeps the facts whole and the structure intact, for every method."""

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
    ],
)
def test_a_fact_is_found_as_one_whole_span(fact):
    text = f"As noted in the minutes, {fact} was mentioned twice by the team."

    assert fact in spans_of(text)


def test_sentence_openers_are_not_part_of_a_name():
    assert "Harbour Authority" in spans_of("The Harbour Authority approved it.")


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
# LLMLingua-2 130 (90.9%) at 0.5 and 122 (85.3%) at 0.3; the default 131 (91.6%) and
# 122 (85.3%); short of the goal (98% / 95%). Each floor sits about the 95% interval's
# half-width (5 points) below its figure, so a regression fails and noise does not.
FLOORS = {"llmlingua2": {0.5: 0.85, 0.3: 0.80}, "distilled": {0.5: 0.86, 0.3: 0.80}}


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
