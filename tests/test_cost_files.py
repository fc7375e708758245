"""Cost files: the three formats read into checked rows, bad rows named by row and column, stored by key."""

from __future__ import annotations

from datetime import date

from dashboard.cost_files import read_cost_file

TODAY = date(2026, 12, 7)


def test_a_generic_csv_gives_one_cost_per_row_in_kopecks() -> None:
    data = b'date,utm_source,utm_campaign,cost\n2026-11-01,yandex,brand_msk,"1 234,50"\n01.11.2026,google,,12.3\n'
    costs = read_cost_file(data, "costs.csv", today=TODAY)
    assert costs.origin == "generic" and costs.file_type == "csv"
    assert [(c.day, c.utm_source, c.utm_campaign, c.utm_medium, c.kopecks) for c in costs.ready] == [
        (date(2026, 11, 1), "yandex", "brand_msk", "cpc", 123_450),
        (date(2026, 11, 1), "google", "", "cpc", 1_230),
    ]
    assert not costs.bad
