/**
 * Building the page's elements. Text from the server or a file name only ever becomes a text node
 * (`textContent`): nothing here parses HTML.
 */
/** A new element with attributes and children (strings become text nodes). */
export function el(tag, attributes = {}, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes))
        element.setAttribute(name, value);
    for (const child of children)
        element.append(typeof child === "string" ? document.createTextNode(child) : child);
    return element;
}
/** The element with this id, of the expected kind (the page's own markup guarantees it). */
export function byId(id) {
    const found = document.getElementById(id);
    if (found === null)
        throw new Error(`the page has no element #${id}`);
    return found;
}
/** Replace an element's children. */
export function fill(parent, ...children) {
    parent.replaceChildren(...children.map((child) => (typeof child === "string" ? document.createTextNode(child) : child)));
}
/** Options of a <select>, keeping the chosen value when it is still offered. */
export function setOptions(select, options) {
    const chosen = select.value;
    fill(select, ...options.map((option) => el("option", { value: option.value, title: option.title ?? "" }, option.label)));
    if (options.some((option) => option.value === chosen))
        select.value = chosen;
}
/** A level in dB for a meter's text: one decimal, "-inf" for silence. */
export function db(value, unit = "dB") {
    return Number.isFinite(value) && value > -200 ? `${value.toFixed(1)} ${unit}` : `-inf ${unit}`;
}
