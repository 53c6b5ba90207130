// The persona's face, alive, in the voice call: the same mouth shapes the video renderer
// draws (providers/video/animation.py: the jaw drops, the gap between the lips becomes a dark
// mouth with a hint of teeth), driven in real time by the loudness of the persona's speech as
// it plays, with blinks every few seconds and a slight sway of the head.
// voice-audio.js announces each clip it plays with a `voice:audio` event on the document; the
// clip is routed through an AnalyserNode (and on to the speakers). The face layout comes from
// GET /api/v1/personas/{id}/face; a persona without a face image shows no avatar.

const SILENCE_DB = -50;
const FULL_DB = -14;
const BLINK_MS = 160;

class Avatar {
  constructor(figure, layout, image) {
    this.figure = figure;
    this.canvas = figure.querySelector("[data-avatar-canvas]");
    this.g = this.canvas.getContext("2d");
    this.layout = layout;
    this.image = image;
    this.size = this.canvas.width;
    const face = layout.face;
    // A square around the face (as the renderer crops it), kept inside the image.
    const side = Math.min(Math.max(face.w / 0.45, face.w * 1.2), layout.width, layout.height);
    const clamp = (value, most) => Math.min(Math.max(value, 0), most - side);
    this.crop = { x: clamp(face.x + face.w / 2 - side / 2, layout.width),
                  y: clamp(face.y + face.h * 0.58 - side / 2, layout.height), side };
    this.scale = this.size / side;
    this.open = 0;
    this.analyser = null;
    this.samples = null;
    this.context = null;
    this.nextBlink = performance.now() + 1500;
    this.blinkAt = -1;
    this.skin = this.sampleSkin();
    this.frame = this.frame.bind(this);
    requestAnimationFrame(this.frame);
  }

  // Image pixels -> canvas pixels.
  px(x, y) {
    return [(x - this.crop.x) * this.scale, (y - this.crop.y) * this.scale];
  }

  sampleSkin() {
    const probe = document.createElement("canvas");
    probe.width = probe.height = 1;
    const eye = this.layout.eyes[0];
    const g = probe.getContext("2d");
    g.drawImage(this.image, eye.x + eye.w * 0.25, eye.y + eye.h * 1.3, eye.w * 0.5, eye.h * 0.7,
                0, 0, 1, 1);
    const [r, gr, b] = g.getImageData(0, 0, 1, 1).data;
    return `rgb(${r}, ${gr}, ${b})`;
  }

  listen(audio) {
    try {
      this.context ||= new AudioContext();
      if (this.context.state === "suspended") this.context.resume();
      const source = this.context.createMediaElementSource(audio);
      const analyser = this.context.createAnalyser();
      analyser.fftSize = 1024;
      source.connect(analyser);
      analyser.connect(this.context.destination);
      this.analyser = analyser;
      this.samples = new Float32Array(analyser.fftSize);
      audio.addEventListener("ended", () => { if (this.analyser === analyser) this.analyser = null; });
    } catch {
      this.analyser = null;  // the clip plays as before, the face just stays still
    }
  }

  level() {
    if (!this.analyser) return 0;
    this.analyser.getFloatTimeDomainData(this.samples);
    let sum = 0;
    for (const value of this.samples) sum += value * value;
    const db = 10 * Math.log10(sum / this.samples.length + 1e-12);
    return Math.min(1, Math.max(0, (db - SILENCE_DB) / (FULL_DB - SILENCE_DB)));
  }

  frame(now) {
    const target = this.level();
    this.open += (target - this.open) * (target > this.open ? 0.55 : 0.3);
    this.canvas.dataset.mouthOpen = this.open.toFixed(2);
    this.draw(now);
    requestAnimationFrame(this.frame);
  }

  draw(now) {
    const { g, size, layout, crop, image } = this;
    const face = layout.face;
    const mouth = layout.mouth;
    g.save();
    g.clearRect(0, 0, size, size);
    const [pivotX, pivotY] = this.px(face.x + face.w / 2, face.y + face.h * 1.1);
    const angle = (1.1 * Math.sin(now / 4300 * 2 * Math.PI) + 0.4 * Math.sin(now / 1900 * 2 * Math.PI)) * Math.PI / 180;
    g.translate(size / 2, size / 2);
    g.scale(1.06, 1.06);  // a little larger than the canvas, so the sway never shows an edge
    g.translate(-size / 2, -size / 2);
    g.translate(pivotX, pivotY + size * 0.004 * this.open);
    g.rotate(angle);
    g.translate(-pivotX, -pivotY);
    g.drawImage(image, crop.x, crop.y, crop.side, crop.side, 0, 0, size, size);

    const gap = face.h * 0.13 * this.open;
    if (gap * this.scale >= 0.5) {
      // The jaw: the face below the lip seam, drawn again lower, inside the jaw's outline.
      const seam = mouth.y + mouth.h / 2;
      const bottom = face.y + face.h * 1.15;
      const [jx, jy] = this.px(face.x + face.w / 2, seam);
      g.save();
      g.beginPath();
      g.ellipse(jx, jy + (bottom - seam) * this.scale / 2, face.w * 0.42 * this.scale,
                (bottom - seam) * this.scale / 2 + gap * this.scale, 0, 0, 2 * Math.PI);
      g.clip();
      const [sx, sy] = this.px(crop.x, seam);
      g.drawImage(image, crop.x, seam, crop.side, bottom - seam,
                  sx, sy + gap * this.scale, size, (bottom - seam) * this.scale);
      g.restore();
      // The mouth between the lips, with the upper teeth showing when it opens wide.
      const [mx, my] = this.px(mouth.x + mouth.w / 2, seam + gap / 2);
      const rx = mouth.w / 2 * (0.55 + 0.3 * this.open) * this.scale;
      const ry = gap / 2 * this.scale + 0.5;
      g.save();
      g.beginPath();
      g.ellipse(mx, my, rx, ry, 0, 0, 2 * Math.PI);
      g.clip();
      g.fillStyle = "#34121a";
      g.fillRect(mx - rx, my - ry, rx * 2, ry * 2);
      if (this.open > 0.3) {
        g.fillStyle = "rgba(226, 222, 212, 0.85)";
        g.fillRect(mx - rx, my - ry, rx * 2, ry * 0.45);
      }
      g.restore();
    }

    if (now >= this.nextBlink && this.blinkAt < 0) this.blinkAt = now;
    if (this.blinkAt >= 0) {
      const phase = (now - this.blinkAt) / BLINK_MS;
      if (phase >= 1) {
        this.blinkAt = -1;
        this.nextBlink = now + 2000 + Math.random() * 4000;
      } else {
        const closure = Math.sin(Math.PI * phase);
        for (const eye of layout.eyes) {
          const [ex, ey] = this.px(eye.x + eye.w / 2, eye.y + eye.h / 2);
          const rx = eye.w * 0.62 * this.scale;
          const ry = eye.h * 0.85 * this.scale;
          g.save();
          g.beginPath();
          g.ellipse(ex, ey, rx, ry, 0, 0, 2 * Math.PI);
          g.clip();
          g.fillStyle = this.skin;
          g.fillRect(ex - rx, ey - ry, rx * 2, ry * 2 * closure);
          g.fillStyle = "rgba(40, 25, 20, 0.6)";
          g.fillRect(ex - rx, ey - ry + ry * 2 * closure - 1, rx * 2, 1.5);
          g.restore();
        }
      }
    }
    g.restore();
  }
}

async function setUp(figure) {
  const response = await fetch(`/api/v1/personas/${encodeURIComponent(figure.dataset.personaId)}/face`,
                               { credentials: "same-origin", headers: { Accept: "application/json" } })
    .catch(() => null);
  const face = response?.ok ? (await response.json()).face : null;
  if (!face) return;  // no face image: the call works as before, without a face
  const image = new Image();
  image.src = face.image_url;
  await image.decode().catch(() => null);
  if (!image.naturalWidth) return;
  figure.hidden = false;
  const avatar = new Avatar(figure, face, image);
  document.addEventListener("voice:audio", (event) => avatar.listen(event.detail));
  window.videoAvatar = avatar;
}

const figure = document.querySelector("[data-call-avatar]");
if (figure) setUp(figure);
