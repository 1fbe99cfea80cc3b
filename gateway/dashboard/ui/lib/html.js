/**
 * Preact with htm: views are functions returning tagged templates, no build step. Preact sets text
 * and attributes through the DOM, so nothing an edge reports is ever parsed as markup.
 */
import htm from 'htm';
import { h, render } from 'preact';

export { useCallback, useEffect, useRef, useState } from 'preact/hooks';
export { render };
export const html = htm.bind(h);
