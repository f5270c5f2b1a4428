import Engine

/// The frame of every report page: one self-contained HTML file with inline CSS and a few
/// lines of inline JavaScript (sorting tables), and a Content-Security-Policy that forbids
/// loading anything from anywhere — images come as `data:` URIs — and running any script but
/// that one (allowed by its hash).
enum ReportPage {
  /// The page; with `refresh`, it reloads itself every so many seconds (a report rewritten
  /// while its sweep runs), a browser feature that fetches nothing but the page itself.
  static func html(title: String, body: String, refresh: Int? = nil) -> String {
    """
    <!DOCTYPE html>
    <html lang="en"><head><meta charset="utf-8">
    <meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src '\(scriptHash)'">\(
      refresh.map { "\n<meta http-equiv=\"refresh\" content=\"\($0)\">" } ?? "")
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>\(HTML.escape(title))</title>
    <style>\(css)</style></head>
    <body><main>
    \(body)
    </main><script>\(sortScript)</script></body></html>

    """
  }

  /// The CSP source that allows exactly the one sorting script (its SHA-256, base64, as
  /// CSP Level 2 hashes the script element's text); any other inline script is blocked.
  static let scriptHash = "sha256-" + SHA256Digest.base64(of: sortScript)

  static let css = """
    body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2733;background:#f6f7f9;margin:0}
    main{max-width:1120px;margin:0 auto;padding:24px 28px 64px;background:#fff}
    h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:36px 0 8px;border-bottom:1px solid #e3e6ea;padding-bottom:4px}
    h3{font-size:15px;margin:20px 0 6px}.sub{color:#5b6775;margin:0 0 16px}.note{color:#6b7785;font-style:italic}
    .headline{font-size:16px;background:#eef4fb;border-left:4px solid #4e79a7;padding:10px 14px;margin:12px 0}
    .findings li{margin:3px 0}
    table{border-collapse:collapse;margin:8px 0 16px;font-size:13px;font-variant-numeric:tabular-nums}
    .table-scroll{overflow-x:auto;max-width:100%}
    caption{text-align:left;font-weight:600;padding:4px 0}
    th,td{padding:4px 9px;border-bottom:1px solid #e6e9ed;text-align:left;vertical-align:top}td a{white-space:nowrap}
    th{background:#f0f2f5;cursor:pointer;user-select:none;white-space:nowrap}th[data-dir=asc]::after{content:" ▲"}th[data-dir=desc]::after{content:" ▼"}
    td[data-sort]{text-align:right}tbody tr:nth-child(even){background:#fafbfc}tbody tr:hover{background:#eef4fb}
    .scroll{overflow-x:auto}.scroll td{white-space:nowrap}
    .effects{display:flex;flex-wrap:wrap;gap:8px}.effects figure{margin:0;flex:1 1 400px;max-width:520px}
    details.configuration{margin:2px 0}details summary{cursor:pointer}ol.runs{columns:4 160px;margin:4px 0 8px}
    details.every-run{margin:12px 0}
    svg.chart{width:100%;max-width:640px;height:auto}svg.heatmap{width:100%;height:auto}
    svg .grid{stroke:#e3e6ea}svg .axis{stroke:#5b6775}svg text{font-family:inherit}
    svg .tick{font-size:11px;fill:#3c4652}svg .label{font-size:12px;fill:#1d2733;font-weight:600}
    svg .value{font-size:10px;fill:#1d2733}svg .cell{font-size:11px}
    figure{margin:8px 0}.pair{display:flex;flex-wrap:wrap;gap:24px}.pair>*{flex:1 1 420px;min-width:0}
    .legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px;margin:2px 0 0 64px}
    .legend i{display:inline-block;width:18px;height:10px;margin-right:5px;vertical-align:middle}
    .gallery{display:flex;flex-wrap:wrap;gap:12px}.card{width:136px;margin:0;font-size:12px}
    .card img{display:block;max-width:128px;max-height:128px;border:1px solid #d5d9de}.card small{color:#6b7785;word-break:break-all}
    .missing{width:112px;height:112px;background:#eee;color:#888;display:flex;align-items:center;justify-content:center}
    img.filters{image-rendering:pixelated;max-width:100%;border:1px solid #d5d9de}
    dl{display:grid;grid-template-columns:max-content 1fr;gap:3px 16px;margin:8px 0}dt{color:#5b6775}dd{margin:0}
    a{color:#2f5f8f}footer{margin-top:40px;color:#6b7785;font-size:12px}
    """

  /// Click a header to sort by its column; numbers by value (cells carry `data-sort`).
  static let sortScript = """
    document.querySelectorAll("table.sortable th").forEach(function (th) {
      th.addEventListener("click", function () {
        var table = th.closest("table"), body = table.tBodies[0];
        var index = Array.prototype.indexOf.call(th.parentNode.children, th);
        var ascending = th.getAttribute("data-dir") !== "asc";
        table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("data-dir"); });
        th.setAttribute("data-dir", ascending ? "asc" : "desc");
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[index], y = b.cells[index];
          var p = x.getAttribute("data-sort"), q = y.getAttribute("data-sort");
          var order = (p !== null && q !== null) ? parseFloat(p) - parseFloat(q)
            : (p === null) - (q === null) || x.textContent.localeCompare(y.textContent);
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
    """
}
