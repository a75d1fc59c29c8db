"""The audit report as one self-contained HTML page, for the people who read it every morning.

The gate and its reason first; then a node x rule matrix coloured by outcome and severity, with
filters (severity, rule family, part, waived, passes) and sorting by node; each finding's evidence,
remediation, references and controls one click away; the waivers in force with their days left; and
the run's release, time and vantages. No network fetch, no script from elsewhere: the page's own
script is allowed by its hash in the page's Content-Security-Policy, and every text a server or a
host's file could influence is escaped.
"""

from __future__ import annotations

import base64
import hashlib
import html
from typing import Any

from .findings import RULES, controls_line, is_host_rule

_SEVERITY_ORDER = ("critical", "high", "medium", "low", "info")
_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1b1f24}
h1{font-size:1.4em;margin:0 0 .3em}h2{font-size:1.1em;margin:1.4em 0 .4em}
.gate{padding:.8em 1em;border-radius:6px;font-weight:600;margin:.6em 0}
.gate.pass{background:#dcf5e3;border:1px solid #2e8b57}
.gate.fail{background:#fde2e1;border:1px solid #c0392b}
.meta{color:#57606a}table{border-collapse:collapse}
th,td{border:1px solid #d0d7de;padding:2px 5px;text-align:center}
th.rule{writing-mode:vertical-rl;transform:rotate(180deg);font-weight:500;white-space:nowrap}
td.node{text-align:left;white-space:nowrap}th.sortable{cursor:pointer;text-decoration:underline dotted}
.pass{background:#e6f4ea}.critical{background:#b71c1c;color:#fff}.high{background:#e53935;color:#fff}
.medium{background:#fb8c00}.low{background:#fdd835}.info{background:#bbdefb}.error{background:#6a1b9a;color:#fff}
.skipped,.none{background:#f6f8fa;color:#8c959f}.waived{outline:2px dashed #1565c0;outline-offset:-3px}
td a{color:inherit;text-decoration:none;display:block}.filters label{margin-right:1em}
details{margin:.3em 0;padding:.3em .6em;border:1px solid #d0d7de;border-radius:4px}
details summary{cursor:pointer}.hidden{display:none}
"""
_SCRIPT = """
(function(){
  var form=document.getElementById('filters');
  function apply(){
    var sev={},i,boxes=form.querySelectorAll('input[name=severity]');
    for(i=0;i<boxes.length;i++){sev[boxes[i].value]=boxes[i].checked;}
    var family=form.family.value,part=form.part.value;
    var hidePass=form.hidepass.checked,hideWaived=form.hidewaived.checked;
    var cells=document.querySelectorAll('td.cell');
    for(i=0;i<cells.length;i++){
      var c=cells[i],o=c.getAttribute('data-outcome');
      var show=(family==='all'||c.getAttribute('data-family')===family)
        &&(part==='all'||c.getAttribute('data-part')===part||o==='none')
        &&!(hidePass&&(o==='pass'||o==='skipped'||o==='none'))
        &&!(hideWaived&&c.getAttribute('data-waived')==='yes')
        &&(!(o in sev)||sev[o]);
      c.classList.toggle('dim',!show);c.style.opacity=show?'':'0.15';
    }
    var rows=document.querySelectorAll('tr.noderow');
    for(i=0;i<rows.length;i++){
      var live=rows[i].querySelectorAll('td.cell:not([style*="0.15"])');
      var bad=0;for(var j=0;j<live.length;j++){var k=live[j].getAttribute('data-outcome');
        if(k!=='pass'&&k!=='skipped'&&k!=='none'){bad++;}}
      rows[i].classList.toggle('hidden',hidePass&&bad===0);
    }
    var cols=document.querySelectorAll('th.rule');
    for(i=0;i<cols.length;i++){cols[i].classList.toggle('hidden',
      family!=='all'&&cols[i].getAttribute('data-family')!==family);}
    var tds=document.querySelectorAll('td.cell');
    for(i=0;i<tds.length;i++){tds[i].classList.toggle('hidden',
      family!=='all'&&tds[i].getAttribute('data-family')!==family);}
  }
  // A view to share: #hidepass&hidewaived&family=PACS-TLS&part=host&severity=critical,high
  var preset=(location.hash||'').replace(/^#/,'').split('&');
  for(var p=0;p<preset.length;p++){
    var kv=preset[p].split('='),key=decodeURIComponent(kv[0]),val=decodeURIComponent(kv[1]||'');
    if(key==='hidepass'||key==='hidewaived'){form[key].checked=true;}
    else if((key==='family'||key==='part')
      &&form[key].querySelector('option[value="'+val.replace(/"/g,'')+'"]')){form[key].value=val;}
    else if(key==='severity'){var wanted=val.split(','),all=form.querySelectorAll('input[name=severity]');
      for(var q=0;q<all.length;q++){all[q].checked=wanted.indexOf(all[q].value)>=0;}}
  }
  form.addEventListener('change',apply);
  var head=document.getElementById('sortnode'),body=document.getElementById('matrixbody'),up=true;
  head.addEventListener('click',function(){
    var rows=Array.prototype.slice.call(body.querySelectorAll('tr.noderow'));
    rows.sort(function(a,b){var x=a.getAttribute('data-sort'),y=b.getAttribute('data-sort');
      return up?(x<y?-1:x>y?1:0):(x<y?1:x>y?-1:0);});
    up=!up;for(var i=0;i<rows.length;i++){body.appendChild(rows[i]);}
  });
  apply();
})();
"""
# What a cell says.
_LABELS = {"pass": "ok", "none": "", "skipped": "-", "critical": "CRIT", "high": "HIGH", "medium": "MED",
           "low": "LOW", "info": "INFO", "error": "ERR"}
# How bad an outcome is, to sort the nodes by their worst (then by name).
_RANK = {"critical": 0, "error": 1, "high": 2, "medium": 3, "low": 4, "info": 5, "pass": 6,
         "skipped": 7, "none": 8}


def _e(value: Any) -> str:
    """Text for HTML, quotes included (attributes and content alike)."""
    return html.escape(str(value), quote=True)


def _anchor(host: str, rule: str) -> str:
    """A fragment id for a finding that no host or rule name can break out of."""
    return "f-" + hashlib.sha256(f"{host}\x1f{rule}".encode()).hexdigest()[:16]


def _outcome(host: dict[str, Any], rule: str) -> tuple[str, dict[str, Any] | None]:
    """The cell's outcome: the finding's severity, or the check's status, or none (not looked at)."""
    for finding in host["findings"]:
        if finding["id"] == rule:
            return finding["severity"], finding
    status = host.get("checks", {}).get(rule, {}).get("status")
    return ({"fail": "error"}.get(status, status) if status else "none"), None


def _gate(report: dict[str, Any]) -> str:
    summary = report["summary"]
    reasons = [f"{summary['gating_findings']} finding(s) at or above {report['fail_on']}"]
    if report.get("fail_on_inconclusive") and summary["inconclusive_hosts"]:
        reasons.append(f"inconclusive: {', '.join(summary['inconclusive_hosts'])}")
    if report.get("fail_on_new_only"):
        reasons.append("new findings only count")
    changes = summary.get("changes") or {}
    since = (f"; since {changes['since']}: {changes.get('new', 0)} new, {changes.get('fixed', 0)} fixed, "
             f"{changes.get('remaining', 0)} remaining" if changes.get("since") else "")
    gate = summary["gate"]
    return (f'<div class="gate {_e(gate)}" id="gate">Gate: {_e(gate.upper())} ({_e("; ".join(reasons))})'
            f"{_e(since)}</div>")


def _matrix(report: dict[str, Any], rules: list[str]) -> str:
    head = "".join(f'<th class="rule" data-family="{_e(r.rsplit("-", 1)[0])}" title="{_e(RULES[r].title)}">'
                   f"{_e(r)}</th>" for r in rules)
    rows = []
    for host in report["hosts"]:
        cells, worst = [], "none"
        for rule in rules:
            outcome, finding = _outcome(host, rule)
            worst = min(worst, outcome, key=lambda o: _RANK.get(o, 8))
            waived = "yes" if finding and finding.get("waived") else "no"
            part = finding.get("source", "network") if finding else (
                "host" if is_host_rule(rule) else "network")
            label = _LABELS.get(outcome, outcome[:4].upper())
            inner = f'<a href="#{_anchor(host["name"], rule)}">{_e(label)}</a>' if finding else _e(label)
            classes = f"cell {_e(outcome)}" + (" waived" if waived == "yes" else "")
            cells.append(f'<td class="{classes}" data-outcome="{_e(outcome)}" '
                         f'data-family="{_e(rule.rsplit("-", 1)[0])}" data-part="{_e(part)}" '
                         f'data-waived="{waived}" title="{_e(host["name"])} {_e(rule)}: {_e(outcome)}">'
                         f"{inner}</td>")
        key = f"{_RANK.get(worst, 8)}{host['name']}"
        rows.append((key, f'<tr class="noderow" data-sort="{_e(key)}"><td class="node">{_e(host["name"])} '
                    f'<span class="meta">({_e(host["verdict"])})</span></td>{"".join(cells)}</tr>'))
    # the nodes that need work first
    rows.sort(key=lambda row: row[0])
    return (f'<table id="matrix"><thead><tr><th id="sortnode" class="sortable">node</th>{head}</tr></thead>'
            f'<tbody id="matrixbody">{"".join(row for _key, row in rows)}</tbody></table>')


def _filters(rules: list[str]) -> str:
    families = sorted({rule.rsplit("-", 1)[0] for rule in rules})
    severities = "".join(f'<label><input type="checkbox" name="severity" value="{s}" checked> {s}</label>'
                         for s in (*_SEVERITY_ORDER, "error"))
    options = "".join(f'<option value="{_e(f)}">{_e(f)}</option>' for f in families)
    return ('<form id="filters" class="filters">'
            f"{severities}<br>"
            f'<label>family <select name="family"><option value="all">all</option>{options}</select></label>'
            '<label>part <select name="part"><option value="all">all</option>'
            '<option value="network">network</option><option value="host">host</option></select></label>'
            '<label><input type="checkbox" name="hidepass" id="hidepass"> hide passes</label>'
            '<label><input type="checkbox" name="hidewaived"> hide waived</label></form>')


def _details(report: dict[str, Any]) -> str:
    items = []
    for host in report["hosts"]:
        if host.get("error"):
            items.append(f'<details><summary>{_e(host["name"])}: {_e(host["verdict"])}</summary>'
                         f"<p>{_e(host['error'])}</p></details>")
        for finding in host["findings"]:
            waived = finding.get("waived")
            extra = (f"<p><b>Waived</b> until {_e(waived['expires'])}: {_e(waived['reason'])}</p>"
                     if waived else "")
            change = f" ({_e(finding['change'])})" if finding.get("change") else ""
            references = "".join(f"<li>{_e(ref)}</li>" for ref in finding.get("references", []))
            items.append(
                f'<details id="{_anchor(host["name"], finding["id"])}"><summary>{_e(host["name"])}: '
                f'{_e(finding["id"])} [{_e(finding["severity"])}] {_e(finding["title"])}{change}</summary>'
                f"<p><b>Evidence</b> ({_e(finding.get('source', 'network'))}): {_e(finding['evidence'])}</p>"
                f"<p><b>Remediation</b>: {_e(finding['remediation'])}</p>{extra}"
                f"<p><b>Controls</b>: {_e(controls_line(finding.get('controls') or {}))}</p>"
                f"<ul>{references}</ul></details>")
    return "".join(items) or "<p>No findings.</p>"


def _waivers(report: dict[str, Any]) -> str:
    active = report["summary"].get("active_waivers", [])
    if not active:
        return "<p>No waiver in force.</p>"
    rows = "".join(f"<tr><td>{_e(w['host'])}</td><td>{_e(w['rule'])}</td><td>{_e(w['days_left'])}</td>"
                   f"<td>{_e(w['expires'])}</td><td>{_e(w['findings'])}</td><td>{_e(w['reason'])}</td></tr>"
                   for w in active)
    return ("<table><tr><th>host</th><th>rule</th><th>days left</th><th>until</th><th>findings</th>"
            f"<th>reason</th></tr>{rows}</table>")


def render(report: dict[str, Any]) -> str:
    """The page for ``report`` (reports.build_report)."""
    looked_at = {rule for host in report["hosts"] for rule in host.get("checks", {})} \
        | {finding["id"] for host in report["hosts"] for finding in host["findings"]}
    rules = [rule for rule in RULES if rule in looked_at]
    vantages = sorted({str(host.get("vantage")) for host in report["hosts"] if host.get("vantage")})
    script_hash = base64.b64encode(hashlib.sha256(_SCRIPT.encode()).digest()).decode()
    policy = (f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{script_hash}'; "
              "img-src 'none'; connect-src 'none'; form-action 'none'; base-uri 'none'")
    tool = report["tool"]
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{_e(policy)}">'
        f"<title>pacsguard audit {_e(report['generated_at'])}</title><style>{_STYLE}</style></head><body>"
        f"<h1>pacsguard audit</h1>{_gate(report)}"
        f"<p class=\"meta\">{_e(tool['name'])} {_e(tool['version'])}, {_e(report['generated_at'])}; "
        f"{_e(report['summary']['hosts'])} node(s), {_e(report['summary']['findings'])} finding(s)"
        f"{'; vantages: ' + _e(', '.join(vantages)) if vantages else ''}</p>"
        f"<h2>Nodes and rules</h2>{_filters(rules)}{_matrix(report, rules)}"
        f"<h2>Waivers in force</h2>{_waivers(report)}"
        f"<h2>Findings</h2>{_details(report)}"
        f"<script>{_SCRIPT}</script></body></html>\n")
