/**
 * An `analysis_response` shown as text: score, insights, findings, suggestions and the metrics table. Every
 * string comes from the server and is put in as text.
 */
import { el, fill } from "./dom.js";
function formatValue(value) {
    if (typeof value === "number")
        return Number.isInteger(value) ? String(value) : value.toFixed(3);
    if (value === null)
        return "—";
    if (typeof value === "object")
        return JSON.stringify(value, (_, inner) => (typeof inner === "number" && !Number.isInteger(inner) ? Number(inner.toFixed(2)) : inner));
    return String(value);
}
function textList(items, cls) {
    const list = el("ul", { class: cls });
    if (Array.isArray(items)) {
        for (const item of items) {
            const text = typeof item === "object" && item !== null ? String(item.text ?? JSON.stringify(item)) : String(item);
            const severity = typeof item === "object" && item !== null ? String(item.severity ?? "") : "";
            list.append(el("li", severity ? { "data-severity": severity } : {}, text));
        }
    }
    return list;
}
/** Fill `box` with the analysis object of a reply. */
export function showAnalysis(box, analysis) {
    const score = typeof analysis.quality_score === "number" ? `${Math.round(analysis.quality_score * 100)} / 100` : "—";
    const metrics = (typeof analysis.metrics === "object" && analysis.metrics !== null ? analysis.metrics : {});
    const table = el("table", { class: "metrics" });
    for (const [name, value] of Object.entries(metrics)) {
        table.append(el("tr", {}, el("th", { scope: "row" }, name), el("td", {}, formatValue(value))));
    }
    const problems = Array.isArray(analysis.problems_detected) ? analysis.problems_detected : [];
    fill(box, el("p", { class: "score" }, `${String(analysis.analysis_type ?? "analysis")} · score ${score} · measured from ${String(analysis.measured_from ?? "—")}`), el("p", { class: "insights" }, String(analysis.codette_insights ?? "")), el("h4", {}, problems.length > 0 ? "Findings" : "No findings"), textList(problems, "problems"), el("h4", {}, "Suggestions"), textList(analysis.suggestion_details ?? analysis.mixing_suggestions, "suggestions"), el("details", { class: "table-wrap" }, el("summary", {}, `Metrics (${Object.keys(metrics).length})`), table));
}
