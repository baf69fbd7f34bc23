/** Types of the typedoc plugin `docs/spec-links.mjs`, for the tests that import it. */
export declare function specAnchors(xml: string): Set<string>;
export declare function rewriteSpecLinks(markdown: string, href: string, anchors?: ReadonlySet<string>, onUnknown?: (anchor: string) => void): string;
export declare function specHref(outDir: string, pageUrl: string, specHtml?: string): string;
export declare function load(app: unknown): void;
