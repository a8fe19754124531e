// The player page of `ams serve` (served at /): lists the published streaming locators with their
// URLs (GET /api/locators: each locator with its AMS listPaths document), and plays the chosen URL
// with the library that fits it, showing the current quality and the buffer.
// ?url=URL[&library=hls.js|dash.js|shaka|native] plays that URL at once.
(function () {
  'use strict';

  const $ = (id) => document.getElementById(id);
  const video = $('video');
  const form = { url: $('url'), library: $('library'), quality: $('quality'), audio: $('audio'),
    text: $('text') };
  let player = null;
  let current = null;  // the .stream row being played

  // listPaths gives one URL per protocol (HLS v4, DASH CSF, Smooth); the other formats the
  // endpoint serves are the same path with another format= argument.
  const MORE_FORMATS = {
    Hls: [['HLS v4', 'm3u8-aapl'], ['HLS v3', 'm3u8-aapl-v3'], ['HLS CMAF', 'm3u8-cmaf']],
    Dash: [['DASH CSF', 'mpd-time-csf'], ['DASH CMAF', 'mpd-time-cmaf']],
    SmoothStreaming: [['Smooth', null]],
  };

  function withFormat(path, format) {
    const base = path.replace(/\/manifest(\([^)]*\))?(\.m3u8|\.mpd)?$/i, '/manifest');
    return format ? `${base}(format=${format})` : base;
  }

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    for (const c of children) e.append(c);
    return e;
  }

  function streamRow(label, url) {
    const row = el('div', { class: 'stream', 'data-url': url },
      el('span', { class: 'protocol' }, label),
      el('code', {}, url),
      el('button', { type: 'button', class: 'copy', title: 'Copy the URL', onclick: async (ev) => {
        const button = ev.currentTarget;
        try {
          await navigator.clipboard.writeText(url);
          button.textContent = 'Copied';
        } catch (e) {
          // No clipboard (plain http on another host): select the text instead.
          const range = document.createRange();
          range.selectNodeContents(row.querySelector('code'));
          getSelection().removeAllRanges();
          getSelection().addRange(range);
          button.textContent = 'Selected';
        }
        setTimeout(() => { button.textContent = 'Copy'; }, 1500);
      } }, 'Copy'),
      el('button', { type: 'button', class: 'play', onclick: () => play(url, null, row) }, 'Play'));
    return row;
  }

  // The locator list is the operator's: `ams serve` prints this page's URL with #token=TOKEN.
  // The token is kept for this tab only and taken out of the address bar (and so out of
  // bookmarks, screenshots and the history).
  function operatorToken() {
    const m = /(?:^#|&)token=([^&]*)/.exec(location.hash);
    if (m) {
      sessionStorage.setItem('ams-operator-token', decodeURIComponent(m[1]));
      history.replaceState(null, '', location.pathname + location.search);
    }
    return sessionStorage.getItem('ams-operator-token') || '';
  }

  async function listLocators() {
    const section = $('locators');
    let data;
    try {
      const token = operatorToken();
      const response = await fetch('/api/locators',
        token ? { headers: { Authorization: `Bearer ${token}` } } : {});
      if (response.status === 401) {
        throw new Error('the locator list needs the operator token: open the page at the URL `ams serve` printed, ending in #token=…');
      }
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      data = await response.json();
    } catch (e) {
      section.replaceChildren(el('p', { class: 'empty' }, `Could not list the locators (${e.message}).`));
      return;
    }
    const locators = data.locators || [];
    if (!locators.length) {
      section.replaceChildren(el('p', { class: 'empty' },
        'No streaming locator is published. Publish one with `ams locator create --asset NAME --policy Predefined_ClearStreamingOnly`.'));
      return;
    }
    section.replaceChildren(...locators.map((loc) => {
      const box = el('article', { class: 'locator' },
        el('h2', {}, loc.asset || loc.id),
        el('p', { class: 'meta' }, `locator ${loc.id} · policy ${loc.policy || '?'}`));
      const seen = new Set();
      for (const sp of (loc.paths && loc.paths.streamingPaths) || []) {
        for (const p of sp.paths || []) {
          for (const [label, format] of MORE_FORMATS[sp.streamingProtocol] || [[sp.streamingProtocol, null]]) {
            const url = location.origin + withFormat(p, format);
            if (seen.has(url)) continue;
            seen.add(url);
            box.append(streamRow(label, url));
          }
        }
      }
      for (const p of (loc.paths && loc.paths.downloadPaths) || []) {
        box.append(el('div', { class: 'stream' }, el('span', { class: 'protocol' }, 'Download'),
          el('code', {}, location.origin + p), el('span'), el('span')));
      }
      return box;
    }));
  }

  function showError(text) {
    $('errors').append(el('li', {}, text));
  }

  function fillLibraries(url, chosen) {
    const names = AmsAdapters.candidates(url, video);
    form.library.replaceChildren(...names.map((n) => el('option', { value: n }, n)));
    form.library.value = chosen && names.includes(chosen) ? chosen : names[0] || '';
  }

  async function play(url, library, row) {
    if (player) player.destroy();
    player = null;
    $('errors').replaceChildren();
    if (current) current.classList.remove('current');
    current = row || null;
    if (current) current.classList.add('current');
    form.url.value = url;
    fillLibraries(url, library);
    const lib = form.library.value;
    if (!lib) {
      showError('No player library here can play this URL.');
      return;
    }
    player = AmsAdapters.create(lib, video, url);
    player.onerror = showError;
    try {
      await player.load();
    } catch (e) {
      showError(`${lib} could not load ${url}: ${e.message}`);
      return;
    }
    fillQualities();
    fillAudio();
    fillText();
  }

  function fillQualities() {
    const levels = player ? player.levels() : [];
    form.quality.replaceChildren(el('option', { value: '-1' }, 'automatic'),
      ...levels.map((l) => el('option', { value: String(l.index) },
        `${l.height}p · ${Math.round(l.bitrate / 1000)} kbit/s`)));
    form.quality.disabled = levels.length === 0;
  }

  function fillAudio() {
    const tracks = player ? player.audioTracks() : [];
    form.audio.replaceChildren(...tracks.map((t) =>
      el('option', { value: String(t.index) }, `${t.lang || 'und'}${t.label ? ' · ' + t.label : ''}`)));
    const active = tracks.find((t) => t.active);
    if (active) form.audio.value = String(active.index);
    form.audio.disabled = tracks.length < 2;
  }

  // Subtitles and captions: off, or one of the text tracks the library lists.
  function fillText() {
    let tracks = [];
    try { tracks = player ? player.textTracks() : []; } catch (e) { tracks = []; }
    form.text.replaceChildren(el('option', { value: '-1' }, 'off'), ...tracks.map((t) =>
      el('option', { value: String(t.index) }, `${t.lang || 'und'}${t.label ? ' · ' + t.label : ''}`)));
    form.text.disabled = tracks.length === 0;
  }

  function bufferAhead() {
    const t = video.currentTime;
    for (let i = 0; i < video.buffered.length; i++) {
      if (video.buffered.start(i) <= t + 0.1 && t <= video.buffered.end(i)) return video.buffered.end(i) - t;
    }
    return 0;
  }

  function updateStatus() {
    if (!player) return;
    const level = player.levels().find((l) => l.height === video.videoHeight);
    const quality = video.videoHeight
      ? `${video.videoHeight}p${level ? ` (${Math.round(level.bitrate / 1000)} kbit/s)` : ''}` : 'no picture yet';
    $('status').textContent = `${player.name} · ${quality} · buffer ${bufferAhead().toFixed(1)} s · ` +
      `${video.currentTime.toFixed(1)} / ${Number.isFinite(video.duration) ? video.duration.toFixed(1) : '?'} s · ` +
      `${player.switches} quality switches`;
    if (form.audio.options.length === 0) fillAudio();
    if (form.quality.options.length <= 1) fillQualities();
    if (form.text.options.length <= 1) fillText();
  }

  $('controls').addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (form.url.value) play(form.url.value, form.library.value, null);
  });
  form.url.addEventListener('change', () => fillLibraries(form.url.value, form.library.value));
  form.quality.addEventListener('change', () => player && player.setLevel(Number(form.quality.value)));
  form.audio.addEventListener('change', () => player && player.setAudio(Number(form.audio.value)));
  form.text.addEventListener('change', () => player && player.setText(Number(form.text.value)));
  setInterval(updateStatus, 500);

  listLocators();
  const query = new URLSearchParams(location.search);
  if (query.get('url')) play(query.get('url'), query.get('library'), null);
})();
