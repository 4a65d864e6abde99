from tokenflow_ml.models_check import rows
from tokenflow_ml.settings import Settings


def test_reports_the_wheel_models_as_local_with_their_size(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    table = {
        role: (backend, model, where, size)
        for role, backend, model, where, size in rows(Settings())
    }

    assert table["classifier"][0] == "embedding"
    assert table["classifier"][2] == "local folder"
    assert table["classifier"][3].endswith("MB")
    assert table["generator"][1].endswith("smollm2-135m-instruct")
    assert (
        table["compressor (seed)"][1]
        == "microsoft/llmlingua-2-bert-base-multilingual-cased-meetingbank"
    )
