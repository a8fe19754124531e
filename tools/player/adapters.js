// One small interface over hls.js, dash.js, shaka-player and the browser's own HLS player, so the
// player page and the end-to-end suite (tests/e2e/browsers.mjs) drive every library the same way:
//
//   const p = AmsAdapters.create('hls.js' | 'dash.js' | 'shaka' | 'native', video, url);
//   await p.load();                 // resolves when the manifest is parsed and playback asked for
//   p.levels()                      // [{index, width, height, bitrate}] the video qualities
//   p.setLevel(index)               // force one quality (-1: back to automatic)
//   p.audioTracks()                 // [{index, lang, label, active}]
//   p.setAudio(index)
//   p.textTracks()                  // [{index, lang, label, active}] subtitles and captions
//   p.setText(index)                // show one (-1: none)
//   p.activeCueTexts()              // the text of every cue the video shows now
//   p.errors                        // every error event the library raised, as text
//   p.switches                      // how often the displayed video height changed
//   p.destroy()
(function (global) {
  'use strict';

  const MIME = {
    hls: 'application/x-mpegurl',
    dash: 'application/dash+xml',
    smooth: 'application/vnd.ms-sstr+xml',
  };

  // The protocol of an AMS manifest URL, from its format= argument.
  function protocolOf(url) {
    const m = /\/manifest(?:\(([^)]*)\))?/i.exec(url);
    const format = m && m[1] ? (/(?:^|,)format=([^,]*)/.exec(m[1]) || [])[1] || '' : '';
    if (format.startsWith('m3u8')) return 'hls';
    if (format.startsWith('mpd')) return 'dash';
    return 'smooth';
  }

  class Base {
    constructor(video, url) {
      this.video = video;
      this.url = url;
      this.errors = [];
      this.switches = 0;
      this.lastHeight = 0;
      this.onResize = () => {
        const h = video.videoHeight;
        if (h && this.lastHeight && h !== this.lastHeight) this.switches++;
        if (h) this.lastHeight = h;
      };
      this.onVideoError = () => {
        const e = video.error;
        this.error(`HTMLMediaElement error ${e ? e.code + ' ' + e.message : ''}`);
      };
      video.addEventListener('resize', this.onResize);
      video.addEventListener('error', this.onVideoError);
    }
    error(text) {
      this.errors.push(text);
      if (this.onerror) this.onerror(text);
    }
    levels() { return []; }
    setLevel() { throw new Error(`${this.name} cannot force a quality`); }
    audioTracks() { return []; }
    setAudio() { throw new Error(`${this.name} cannot select an audio track`); }
    textTracks() { return []; }
    setText() { throw new Error(`${this.name} cannot select a text track`); }
    // hls.js and shaka-player render cues into the video's TextTracks (hls.js its own, shaka-player
    // through its native text displayer): the cues active in a track that is showing.
    activeCueTexts() {
      const texts = [];
      for (const track of Array.from(this.video.textTracks || [])) {
        if (track.mode !== 'showing') continue;
        for (const cue of Array.from(track.activeCues || [])) texts.push(cue.text);
      }
      return texts;
    }
    play() {
      return this.video.play().catch((e) => this.error(`play(): ${e.message}`));
    }
    destroy() {
      this.video.removeEventListener('resize', this.onResize);
      this.video.removeEventListener('error', this.onVideoError);
    }
  }

  class HlsJs extends Base {
    get name() { return 'hls.js'; }
    static supports(protocol) { return protocol === 'hls'; }
    load() {
      const Hls = global.Hls;
      const hls = (this.hls = new Hls());
      hls.on(Hls.Events.ERROR, (_, d) =>
        this.error(`${d.type} ${d.details}${d.fatal ? ' (fatal)' : ''}` +
                   `${d.url || (d.frag && d.frag.url) ? ' ' + (d.url || d.frag.url) : ''}` +
                   `${d.response && d.response.code ? ' HTTP ' + d.response.code : ''}` +
                   `${d.error ? ': ' + d.error.message : ''}`));
      return new Promise((resolve, reject) => {
        hls.once(Hls.Events.MANIFEST_PARSED, () => { this.play(); resolve(); });
        hls.on(Hls.Events.ERROR, (_, d) => { if (d.fatal) reject(new Error(d.details)); });
        hls.loadSource(this.url);
        hls.attachMedia(this.video);
      });
    }
    levels() {
      return this.hls.levels.map((l, i) => ({ index: i, width: l.width, height: l.height, bitrate: l.bitrate }));
    }
    setLevel(index) { this.hls.currentLevel = index; }
    audioTracks() {
      return this.hls.audioTracks.map((t, i) => ({
        index: i, lang: t.lang || '', label: t.name || '', active: i === this.hls.audioTrack,
      }));
    }
    setAudio(index) { this.hls.audioTrack = index; }
    textTracks() {
      return this.hls.subtitleTracks.map((t, i) => ({
        index: i, lang: t.lang || '', label: t.name || '', active: i === this.hls.subtitleTrack,
      }));
    }
    setText(index) {
      this.hls.subtitleDisplay = index >= 0;
      this.hls.subtitleTrack = index;
    }
    destroy() { super.destroy(); this.hls.destroy(); }
  }

  class DashJs extends Base {
    get name() { return 'dash.js'; }
    static supports(protocol) { return protocol === 'dash' || protocol === 'smooth'; }
    load() {
      const dashjs = global.dashjs;
      const events = dashjs.MediaPlayer.events;
      const p = (this.player = dashjs.MediaPlayer().create());
      p.updateSettings({ debug: { logLevel: dashjs.Debug.LOG_LEVEL_WARNING } });
      const describe = (e) => {
        const err = e.error || e;
        return `${err.code !== undefined ? 'code ' + err.code + ' ' : ''}${err.message || JSON.stringify(err)}`;
      };
      p.on(events.ERROR, (e) => this.error(`dash.js error ${describe(e)}`));
      p.on(events.PLAYBACK_ERROR, (e) => this.error(`dash.js playback error ${describe(e)}`));
      return new Promise((resolve, reject) => {
        p.on(events.STREAM_INITIALIZED, () => resolve());
        p.on(events.ERROR, (e) => reject(new Error(describe(e))));
        p.initialize(this.video, this.url, true);
        // dash.js renders TTML (imsc.js) into a div of the page over the video, and only there
        // (the video attached first).
        const div = (this.ttmlDiv = document.createElement('div'));
        div.className = 'ams-ttml';
        div.style.cssText = 'position:absolute;pointer-events:none;';
        this.video.insertAdjacentElement('afterend', div);
        p.attachTTMLRenderingDiv(div);
      });
    }
    levels() {
      return this.player.getRepresentationsByType('video').map((r, i) => ({
        index: i, width: r.width, height: r.height, bitrate: r.bandwidth,
      }));
    }
    setLevel(index) {
      const auto = index < 0;
      this.player.updateSettings({ streaming: { abr: { autoSwitchBitrate: { video: auto } } } });
      if (!auto) this.player.setRepresentationForTypeByIndex('video', index, true);
    }
    audioTracks() {
      const current = this.player.getCurrentTrackFor('audio');
      return this.player.getTracksFor('audio').map((t, i) => ({
        index: i,
        lang: t.lang || '',
        label: (t.labels && t.labels[0] && t.labels[0].text) || t.id || '',
        active: !!current && t.id === current.id && t.lang === current.lang,
      }));
    }
    setAudio(index) { this.player.setCurrentTrack(this.player.getTracksFor('audio')[index]); }
    // dash.js numbers its text tracks as getTracksFor('text') lists them (one per AdaptationSet
    // or text StreamIndex); getCurrentTextTrackIndex is -1 while none shows.
    textTracks() {
      const current = this.player.getCurrentTextTrackIndex();
      return this.player.getTracksFor('text').map((t, i) => ({
        index: i,
        lang: t.lang || '',
        label: (t.labels && t.labels[0] && t.labels[0].text) || t.id || '',
        active: i === current,
      }));
    }
    setText(index) {
      this.player.enableText(index >= 0);
      if (index >= 0) this.player.setTextTrack(index);
    }
    // TTML cues are HTML cues (text ''): the text of the TTML paragraph (imsc.js's ISD tree) of
    // each cue the video holds active, what dash.js then renders into its div.
    activeCueTexts() {
      const texts = [];
      const collect = (node, out) => {
        if (!node || typeof node !== 'object') return out;
        if (node.kind === 'br') return out + '\n';
        if (typeof node.text === 'string') out += node.text;
        for (const child of node.contents || []) out = collect(child, out);
        return out;
      };
      for (const track of Array.from(this.video.textTracks || [])) {
        if (track.mode !== 'showing') continue;
        for (const cue of Array.from(track.activeCues || [])) {
          const text = cue.text || (cue.isd ? collect(cue.isd, '').trim() : '');
          if (text) texts.push(text);
        }
      }
      return texts;
    }
    destroy() {
      super.destroy();
      this.player.destroy();
      if (this.ttmlDiv) this.ttmlDiv.remove();
    }
  }

  class Shaka extends Base {
    get name() { return 'shaka'; }
    static supports() { return true; }
    async load() {
      const shaka = global.shaka;
      shaka.polyfill.installAll();
      const p = (this.player = new shaka.Player());
      p.addEventListener('error', (e) => {
        const d = e.detail || {};
        this.error(`shaka error ${d.code} (category ${d.category}, severity ${d.severity})` +
                   `${d.data ? ' ' + JSON.stringify(d.data).slice(0, 300) : ''}`);
      });
      await p.attach(this.video);
      try {
        // AMS manifest URLs have no extension: say what they are.
        await p.load(this.url, null, MIME[protocolOf(this.url)]);
      } catch (e) {
        // A shaka.util.Error: its code names the failure (shaka.util.Error.Code).
        throw new Error(`shaka load failed: error ${e.code} (category ${e.category})` +
                        `${e.data ? ' ' + JSON.stringify(e.data).slice(0, 300) : ''}`);
      }
      this.play();
    }
    levels() {
      return this.player.getVideoTracks()
        .map((t) => ({ track: t, width: t.width, height: t.height, bitrate: t.bandwidth }))
        .map((l, i) => ({ index: i, width: l.width, height: l.height, bitrate: l.bitrate, track: l.track }));
    }
    setLevel(index) {
      this.player.configure({ abr: { enabled: index < 0 } });
      if (index >= 0) this.player.selectVideoTrack(this.player.getVideoTracks()[index], true);
    }
    audioTracks() {
      return this.player.getAudioTracks().map((t, i) => ({
        index: i, lang: t.language || '', label: t.label || '', active: !!t.active,
      }));
    }
    setAudio(index) { this.player.selectAudioTrack(this.player.getAudioTracks()[index]); }
    textTracks() {
      return this.player.getTextTracks().map((t, i) => ({
        index: i, lang: t.language || '', label: t.label || '', active: !!t.active,
      }));
    }
    // shaka-player 5 shows the selected track (null: none); 4 also needs its visibility on.
    setText(index) {
      this.player.selectTextTrack(index >= 0 ? this.player.getTextTracks()[index] : null);
      if (this.player.setTextTrackVisibility) this.player.setTextTrackVisibility(index >= 0);
    }
    destroy() { super.destroy(); this.player.destroy(); }
  }

  // The browser plays the HLS URL itself (Safari; Chromium 141+ on desktop).
  class Native extends Base {
    get name() { return 'native'; }
    static supports(protocol) { return protocol === 'hls'; }
    static available(video) { return video.canPlayType(MIME.hls) !== ''; }
    load() {
      return new Promise((resolve, reject) => {
        this.video.addEventListener('loadedmetadata', () => { this.play(); resolve(); }, { once: true });
        this.video.addEventListener('error', () => reject(new Error('the video element failed')), { once: true });
        this.video.src = this.url;
      });
    }
    audioTracks() {
      const list = this.video.audioTracks;
      if (!list) return [];
      return Array.from(list).map((t, i) => ({ index: i, lang: t.language, label: t.label, active: t.enabled }));
    }
    setAudio(index) {
      Array.from(this.video.audioTracks).forEach((t, i) => { t.enabled = i === index; });
    }
    destroy() { super.destroy(); this.video.removeAttribute('src'); this.video.load(); }
  }

  const LIBRARIES = { 'hls.js': HlsJs, 'dash.js': DashJs, shaka: Shaka, native: Native };

  global.AmsAdapters = {
    MIME,
    protocolOf,
    libraries: Object.keys(LIBRARIES),
    // The libraries that can play `url` here, preferred first.
    candidates(url, video) {
      const protocol = protocolOf(url);
      return Object.keys(LIBRARIES).filter((name) => {
        const C = LIBRARIES[name];
        return C.supports(protocol) && (!C.available || C.available(video));
      });
    },
    create(library, video, url) {
      const C = LIBRARIES[library];
      if (!C) throw new Error(`unknown player library ${library}`);
      return new C(video, url);
    },
  };
})(window);
