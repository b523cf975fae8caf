"""`make plots`: every dataset's charts on one self-contained HTML page that renders offline.

The charts are Vega-Lite specs built here from the CSVs the stages write under plots/. Vega,
Vega-Lite and vega-embed come from the vl-convert-python package, inlined in the page: no CDN.
Colours, orientation and titles match the PNGs (charts.colour).
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd
from sklearn.metrics import auc as area

from lstmops import layout, tasks
from lstmops.charts import baselines_in, first_step
from lstmops.charts import colour as colour_of
from lstmops.config import Dataset, load_params

PAGE = Path("plots") / "index.html"
SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"  # an identifier: nothing is fetched
WIDTH, HEIGHT = 720, 300

Chart = tuple[str, dict]  # (title, Vega-Lite spec)


def _spec(title: str, table: pd.DataFrame, **body) -> dict:
    return {
        "$schema": SCHEMA,
        "title": title,
        "width": WIDTH,
        "height": HEIGHT,
        "data": {"values": json.loads(table.to_json(orient="records"))},
        **body,
    }


def _series(names: list[str], title: str = "series") -> dict:
    """A colour scale that gives each named series its colour and a legend entry."""
    return {
        "scale": {"domain": names, "range": [colour_of(n) for n in names]},
        "legend": {"title": title},
    }


def _lines(x: dict, columns: list[str], y_title: str) -> dict:
    """One line layer per column, drawn in order (the last on top), with a shared legend."""
    return {
        "layer": [
            {
                "mark": {"type": "line", "strokeWidth": 2 if column == "actual" else 1.2},
                "encoding": {
                    "x": x,
                    "y": {
                        "field": column,
                        "type": "quantitative",
                        "title": y_title,
                        "scale": {"zero": False},
                    },
                    "color": {"datum": column, **_series(columns)},
                    "tooltip": [
                        {"field": x["field"], "type": x["type"]},
                        {"field": column, "type": "quantitative", "format": ".4~f"},
                    ],
                },
            }
            for column in columns
        ]
    }


def learning_curve(table: pd.DataFrame, dataset: str) -> Chart:
    columns = [c for c in ("loss", "val_loss") if c in table]
    epoch = {
        "field": "epoch",
        "type": "quantitative",
        "title": "epoch",
        "axis": {"format": "d", "tickMinStep": 1},
    }
    title = f"{dataset}: learning curve"
    return title, _spec(title, table, **_lines(epoch, columns, "loss"))


def forecast(table: pd.DataFrame, dataset: str) -> Chart:
    """The baselines, the forecast, and the actual close on top, in dollars by date (or test day)."""
    table = first_step(table)
    x = (
        {"field": "date", "type": "temporal", "title": "date"}
        if "date" in table
        else {
            "field": "day",
            "type": "quantitative",
            "title": "test day",
            "axis": {"format": "d", "tickMinStep": 1},
        }
    )
    title = f"{dataset}: one-step-ahead forecast of the close on the test period"
    body = _lines(x, [*baselines_in(table), "predicted", "actual"], "close ($)")
    return title, _spec(title, table, **body)


def _next_day_points(table: pd.DataFrame, x: str, others: list[str]) -> pd.DataFrame:
    """The next day's forecasts, the model's and each baseline's, one row each with its interval."""
    ahead = table[table["forecast"].notna()]
    return pd.concat(
        [
            ahead.assign(series="model", value=ahead["forecast"]),
            *(
                ahead.assign(
                    series=name,
                    value=ahead[name],
                    lower=ahead[f"{name}_lower"],
                    upper=ahead[f"{name}_upper"],
                )
                for name in others
            ),
        ]
    )[[x, "series", "value", "lower", "upper"]]


def next_day(table: pd.DataFrame, dataset: str) -> Chart:
    """The last days' close, then the next day's forecast of the model and of each baseline, each
    a point with its interval as a bar."""
    dated = "date" in table
    x = (
        {"field": "date", "type": "temporal", "title": "date"}
        if dated
        else {"field": "day", "type": "quantitative", "title": "day (0: the last day seen)"}
    )
    others = baselines_in(table, "_lower")
    points = _next_day_points(table, x["field"], others)
    colour = {"field": "series", **_series(["model", *others])}
    y = {"type": "quantitative", "title": "close ($)", "scale": {"zero": False}}
    title = f"{dataset}: the next day's forecast"
    spec = _spec(
        title,
        table[table["close"].notna()][[x["field"], "close"]],
        layer=[
            {
                "mark": {"type": "line", "strokeWidth": 2, "color": colour_of("actual")},
                "encoding": {"x": x, "y": {"field": "close", **y}},
            },
            {
                "data": {"values": json.loads(points.to_json(orient="records"))},
                "layer": [
                    {
                        "mark": {"type": "rule", "strokeWidth": 2},
                        "encoding": {
                            "x": x,
                            "y": {"field": "lower", **y},
                            "y2": {"field": "upper"},
                            "color": colour,
                        },
                    },
                    {
                        "mark": {"type": "point", "filled": True, "size": 60},
                        "encoding": {
                            "x": x,
                            "y": {"field": "value", **y},
                            "color": colour,
                            "tooltip": [
                                {"field": "series"},
                                {"field": "value", "type": "quantitative", "format": ".2f"},
                                {"field": "lower", "type": "quantitative", "format": ".2f"},
                                {"field": "upper", "type": "quantitative", "format": ".2f"},
                            ],
                        },
                    },
                ],
            },
        ],
    )
    return title, spec


def walkforward(table: pd.DataFrame, dataset: str) -> Chart:
    """Each fold's test RMSE, the model's beside each baseline's."""
    who = ["model", *baselines_in(table, "_rmse")]
    long = table.melt(
        id_vars=["fold", "rmse_ratio"],
        value_vars=[f"{name}_rmse" for name in who],
        var_name="series",
        value_name="rmse",
    )
    long["series"] = long["series"].str.removesuffix("_rmse")
    title = f"{dataset}: walk-forward folds, model against {', '.join(who[1:])}"
    return title, _spec(
        title,
        long,
        mark="bar",
        encoding={
            "x": {"field": "fold", "type": "ordinal", "title": "fold", "axis": {"labelAngle": 0}},
            "xOffset": {"field": "series"},
            "y": {"field": "rmse", "type": "quantitative", "title": "test RMSE ($)"},
            "color": {"field": "series", **_series(who)},
            "tooltip": [
                {"field": "fold"},
                {"field": "series"},
                {"field": "rmse", "type": "quantitative", "format": ".4f"},
                {
                    "field": "rmse_ratio",
                    "type": "quantitative",
                    "format": ".3f",
                    "title": f"model / {who[1]}",
                },
            ],
        },
    )


def roc(table: pd.DataFrame, dataset: str) -> Chart:
    """The ROC curve with chance's diagonal; the AUC in the legend, as on the PNG."""

    auc = float(area(table["fpr"], table["tpr"]))
    model, chance = f"model (AUC {auc:.3f})", "chance (AUC 0.5)"
    colour = {
        "scale": {"domain": [model, chance], "range": [colour_of("model"), "grey"]},
        "legend": {"title": None},
    }
    rate = {"type": "quantitative", "scale": {"domain": [0, 1]}}
    title = f"{dataset}: ROC curve on the test split"
    spec = _spec(
        title,
        table,
        layer=[
            {
                "mark": "line",
                "encoding": {
                    "x": {"field": "fpr", "title": "false positive rate", **rate},
                    "y": {"field": "tpr", "title": "true positive rate", **rate},
                    "color": {"datum": model, **colour},
                },
            },
            {
                "data": {"values": [{"fpr": 0, "tpr": 0}, {"fpr": 1, "tpr": 1}]},
                "mark": {"type": "line", "strokeDash": [6, 4]},
                "encoding": {
                    "x": {"field": "fpr", **rate},
                    "y": {"field": "tpr", **rate},
                    "color": {"datum": chance, **colour},
                },
            },
        ],
    )
    spec["width"] = spec["height"] = HEIGHT
    return title, spec


def confusion(table: pd.DataFrame, dataset: str) -> Chart:
    """Counts of actual (rows) by predicted (columns) label, as on the PNG."""
    names = {0: "negative", 1: "positive"}
    counts = (
        table.replace({"actual": names, "predicted": names})
        .value_counts(["actual", "predicted"])
        .rename("reviews")
        .reset_index()
    )
    cell = {
        "x": {
            "field": "predicted",
            "type": "nominal",
            "title": "predicted",
            "sort": list(names.values()),
            "axis": {"labelAngle": 0},
        },
        "y": {
            "field": "actual",
            "type": "nominal",
            "title": "actual",
            "sort": list(names.values()),
        },
    }
    title = f"{dataset}: confusion matrix on the test split"
    spec = _spec(
        title,
        counts,
        encoding=cell,
        layer=[
            {
                "mark": "rect",
                "encoding": {
                    "color": {
                        "field": "reviews",
                        "type": "quantitative",
                        "scale": {"scheme": "blues"},
                    }
                },
            },
            {
                "mark": {"type": "text", "fontSize": 16},
                "encoding": {"text": {"field": "reviews", "type": "quantitative"}},
            },
        ],
    )
    spec["width"] = spec["height"] = HEIGHT
    return title, spec


def charts_of(dataset: Dataset) -> tuple[list[Chart], list[str]]:
    """The charts its task declares for the page (PAGE_CHARTS), from the tables its stages wrote;
    a note naming the stage to run for each table not there yet."""
    built, notes = [], []
    for stage, table, chart in tasks.declarations(dataset.task).PAGE_CHARTS:
        path = layout.tables_dir(dataset.name, stage) / f"{table}.csv"
        if path.is_file():
            built.append(BUILDERS[chart](pd.read_csv(path), dataset.name))
        else:
            notes.append(f"No {path} yet: run `dvc repro {layout.stage_name(dataset, stage)}`.")
    return built, notes


# The charts a task may declare for the page (its PAGE_CHARTS), by name.
BUILDERS = {
    "learning_curve": learning_curve,
    "forecast": forecast,
    "next_day": next_day,
    "walkforward": walkforward,
    "roc": roc,
    "confusion": confusion,
}


def page(sections: list[tuple[str, list[Chart], list[str]]], bundle: str) -> str:
    """The HTML page: per dataset its charts (and notes for what is missing), the Vega bundle
    inlined. Each chart's div says data-rendered="true" once drawn, or "error" with the reason."""
    divs: list[str] = []
    specs: dict[str, dict] = {}
    toc: list[str] = []
    for dataset, charts, notes in sections:
        toc.append(f'<a href="#{html.escape(dataset)}">{html.escape(dataset)}</a>')
        divs.append(f'<h2 id="{html.escape(dataset)}">{html.escape(dataset)}</h2>')
        divs += [f"<p class=note>{html.escape(note)}</p>" for note in notes]
        for title, spec in charts:
            key = f"chart{len(specs)}"
            specs[key] = spec
            divs.append(f'<div class=chart id="{key}" title="{html.escape(title)}"></div>')
    # "</" must not end the inline script early; JSON allows it escaped.
    data = json.dumps(specs).replace("</", "<\\/")
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>lstmops plots</title>
<style>body{{font-family:sans-serif;margin:1em 2em}}.chart{{margin:1em 0}}
.note{{color:#555}}</style>
<script>{bundle}</script></head>
<body><h1>lstmops plots</h1><p>{len(specs)} charts: {" · ".join(toc)}</p>
{chr(10).join(divs)}
<script>
const specs = {data};
for (const [id, spec] of Object.entries(specs)) {{
  const div = document.getElementById(id);
  vegaEmbed(div, spec, {{renderer: "svg", actions: false}})
    .then(() => {{ div.dataset.rendered = "true"; }})
    .catch((err) => {{ div.dataset.rendered = "error"; div.textContent = "chart failed: " + err; }});
}}
</script></body></html>
"""


def write(path: Path = PAGE) -> str:
    """Write the page for every dataset params.yaml declares, from the plots its stages wrote."""
    import vl_convert  # its Vega bundle: only `make plots` needs it

    params = load_params()
    sections = []
    for name in params.names():
        dataset = params.dataset(name)
        charts, notes = charts_of(dataset)
        sections.append((name, charts, notes))
    path.parent.mkdir(parents=True, exist_ok=True)
    bundle = vl_convert.javascript_bundle()  # type: ignore[call-arg]  # its stub: snippet required
    path.write_text(page(sections, bundle), encoding="utf-8")
    drawn = sum(len(charts) for _, charts, _ in sections)
    return f"{path}: {drawn} charts of {len(sections)} datasets; open it in a browser (no network needed)"
