/**
 * What an analysis answer asks for, read for Listen and the spectrum view: the filters its suggestions name
 * (a high-pass "at 80 Hz"; a cut "6 dB around 198 Hz ... Q about 5.8") and the frequencies its findings
 * point at (the `*_hz` metric next to a finding's metric).
 */
/** The Q of a suggested cut that names none. */
export const DEFAULT_CUT_Q = 1.4;
function details(analysis, field) {
    const value = analysis[field];
    return Array.isArray(value) ? value.filter((item) => typeof item === "object" && item !== null) : [];
}
const HIGH_PASS = /high-pass\b[^.]*?\b(?:at|around|from)\s+(\d+(?:\.\d+)?)\s*(k?)Hz/i;
const CUT = /\bcut\s+(\d+(?:\.\d+)?)\s*dB\s+(?:around|at|near)\s+(\d+(?:\.\d+)?)\s*(k?)Hz/i;
const Q_GIVEN = /\bQ\s+(?:about|of|=)?\s*(\d+(?:\.\d+)?)/i;
/** The filters the suggestions name, in the order given (findings before general advice). */
export function suggestedFilters(analysis) {
    const found = [];
    const texts = details(analysis, "suggestion_details").map((detail) => String(detail.text ?? ""));
    if (texts.length === 0 && Array.isArray(analysis.mixing_suggestions))
        texts.push(...analysis.mixing_suggestions.map(String));
    for (const text of texts) {
        const highPass = HIGH_PASS.exec(text);
        if (highPass !== null) {
            const frequency = Number(highPass[1]) * (highPass[2] ? 1000 : 1);
            found.push({ kind: "highpass", frequency, gainDb: 0, q: Math.SQRT1_2, label: `with the high-pass at ${frequency} Hz` });
            continue;
        }
        const cut = CUT.exec(text);
        if (cut !== null) {
            const frequency = Number(cut[2]) * (cut[3] ? 1000 : 1);
            const depth = Number(cut[1]);
            const q = Number(Q_GIVEN.exec(text)?.[1] ?? DEFAULT_CUT_Q);
            found.push({ kind: "peaking", frequency, gainDb: -depth, q, label: `with a ${depth} dB cut at ${frequency} Hz (Q ${q})` });
        }
    }
    return found.filter((filter, i) => found.findIndex((other) => other.label === filter.label) === i);
}
/** Frequencies to mark on the spectrum: each finding's located frequency, and each suggested filter's. */
export function markers(analysis) {
    const metrics = (typeof analysis.metrics === "object" && analysis.metrics !== null ? analysis.metrics : {});
    const found = [];
    for (const problem of details(analysis, "problems_detected")) {
        const metric = String(problem.metric ?? "");
        const base = metric.replace(/_(excess_db|db|share|by_db)$/, "");
        const frequency = metrics[`${base}_hz`];
        if (typeof frequency === "number" && frequency > 0) {
            found.push({ frequency, label: String(problem.rule ?? base), severity: String(problem.severity ?? "warning") });
        }
    }
    if (typeof metrics.buried_hz === "number")
        found.push({ frequency: metrics.buried_hz, label: "buried", severity: "warning" });
    for (const filter of suggestedFilters(analysis)) {
        found.push({ frequency: filter.frequency, label: filter.kind === "highpass" ? "high-pass" : "cut", severity: "info" });
    }
    return found;
}
