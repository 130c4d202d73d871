/**
 * A track's type guessed from its name with the project's own alias table (tracktypes.json, generated from
 * codette_lab/tracktypes.py), read the way the server reads it: the name's longest word runs first, the best
 * ranked alias among them.
 */
const SEPARATORS = /[\s_\-./()[\]#:]+/;
export class TrackTypes {
    table;
    rank = new Map();
    instrumentOf = new Map();
    mostWords;
    constructor(table) {
        this.table = table;
        table.aliases.forEach(([alias, instrument], position) => {
            this.rank.set(alias, position);
            this.instrumentOf.set(alias, instrument);
        });
        this.mostWords = Math.max(...table.aliases.map(([alias]) => alias.split(" ").length));
    }
    static async load(url = "tracktypes.json") {
        const response = await fetch(url);
        return new TrackTypes((await response.json()));
    }
    /** The canonical type a track name says ("Lead Vox 2" -> vocal), the generic type when it says none. */
    guess(name) {
        const words = name.trim().toLowerCase().split(SEPARATORS).filter((word) => word.length > 0);
        for (let size = Math.min(this.mostWords, words.length); size > 0; size -= 1) {
            let best = null;
            for (let start = 0; start + size <= words.length; start += 1) {
                const run = words.slice(start, start + size).join(" ");
                const rank = this.rank.get(run);
                if (rank !== undefined && (best === null || rank < (this.rank.get(best) ?? Infinity)))
                    best = run;
            }
            if (best !== null)
                return this.table.instruments[this.instrumentOf.get(best) ?? ""] ?? this.table.generic;
        }
        return this.table.generic;
    }
}
