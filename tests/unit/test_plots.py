"""The plots page's charts: each series its own colour and legend entry, titles that name the
dataset, axis titles with units, integer epochs, and a confusion matrix oriented as the PNG."""

from __future__ import annotations

import json

import pandas as pd

from lstmops import plots


def _layers(spec: dict) -> list[dict]:
    return spec.get("layer", [spec])


def test_forecast_series_have_distinct_colours_and_actual_is_drawn_last():
    table = pd.DataFrame(
        {"day": [1, 2], "actual": [10, 11], "predicted": [10.5, 11], "persistence": [9, 10]}
    )
    title, spec = plots.forecast(table, "acme")
    assert title.startswith("acme:")
    layers = _layers(spec)
    assert [layer["encoding"]["y"]["field"] for layer in layers][-1] == "actual"  # on top
    colours = layers[0]["encoding"]["color"]["scale"]["range"]
    assert len(set(colours)) == 3
    assert layers[0]["encoding"]["y"]["title"] == "close ($)"
    dated = table.assign(date=["2024-01-02", "2024-01-03"])
    assert _layers(plots.forecast(dated, "acme")[1])[0]["encoding"]["x"]["type"] == "temporal"


def test_the_next_day_chart_draws_the_closes_then_both_forecasts_with_their_bands():
    table = pd.DataFrame(
        {
            "day": [-1, 0, 1],
            "close": [10.0, 11.0, None],
            "forecast": [None, None, 11.5],
            "lower": [None, None, 10.5],
            "upper": [None, None, 12.5],
            "persistence": [None, None, 11.0],
            "persistence_lower": [None, None, 9.0],
            "persistence_upper": [None, None, 13.0],
        }
    )
    title, spec = plots.next_day(table, "acme")
    assert title == "acme: the next day's forecast"
    line, points = spec["layer"]
    assert [row["close"] for row in spec["data"]["values"]] == [10.0, 11.0]
    bands = {
        row["series"]: (row["lower"], row["value"], row["upper"])
        for row in points["data"]["values"]
    }
    assert bands == {"model": (10.5, 11.5, 12.5), "persistence": (9.0, 11.0, 13.0)}
    rule, point = points["layer"]
    assert rule["mark"]["type"] == "rule" and rule["encoding"]["y2"]["field"] == "upper"
    dated = table.assign(date=["2024-01-04", "2024-01-05", "2024-01-08"])
    assert plots.next_day(dated, "acme")[1]["layer"][0]["encoding"]["x"]["type"] == "temporal"


def test_learning_curve_counts_whole_epochs():
    table = pd.DataFrame({"epoch": [1, 2, 3], "loss": [3, 2, 1], "val_loss": [3, 2.5, 2]})
    _, spec = plots.learning_curve(table, "imdb")
    x = _layers(spec)[0]["encoding"]["x"]
    assert x["title"] == "epoch" and x["axis"] == {"format": "d", "tickMinStep": 1}


def test_confusion_rows_are_actual_columns_predicted():
    table = pd.DataFrame({"actual": [0, 0, 1, 1, 1], "predicted": [0, 1, 1, 1, 0]})
    _, spec = plots.confusion(table, "imdb")
    cells = {(v["actual"], v["predicted"]): v["reviews"] for v in spec["data"]["values"]}
    assert cells == {
        ("negative", "negative"): 1,
        ("negative", "positive"): 1,
        ("positive", "positive"): 2,
        ("positive", "negative"): 1,
    }
    assert (
        spec["encoding"]["y"]["field"] == "actual" and spec["encoding"]["x"]["field"] == "predicted"
    )


def test_roc_has_the_diagonal_and_its_auc():
    table = pd.DataFrame({"fpr": [0, 0, 1], "tpr": [0, 1, 1]})  # a perfect ranking
    _, spec = plots.roc(table, "imdb")
    model, chance = (layer["encoding"]["color"]["datum"] for layer in spec["layer"])
    assert model == "model (AUC 1.000)" and chance == "chance (AUC 0.5)"
    assert spec["layer"][1]["data"]["values"] == [{"fpr": 0, "tpr": 0}, {"fpr": 1, "tpr": 1}]


def test_page_inlines_its_scripts_and_escapes_the_specs():
    table = pd.DataFrame({"epoch": [1], "loss": [1.0]})
    chart = plots.learning_curve(table, "a</script><b>")
    html = plots.page([("a", [chart], ["No plots/x yet"])], bundle="/* vega */")
    assert "<script src" not in html and "/* vega */" in html
    assert html.count("</script>") == 2  # the bundle's and the page's: the title did not end one
    specs = html.split("const specs = ", 1)[1].split(";\n", 1)[0]
    assert json.loads(specs)["chart0"]["title"] == "a</script><b>: learning curve"
    assert "No plots/x yet" in html
