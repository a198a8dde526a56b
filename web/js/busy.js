//! "Busy, retrying in N s": one shared status line that counts down while a request backs off.

let timer = null;

/** Shows the countdown for `seconds` and resolves when it is over. */
export function waitBusy(seconds) {
  const line = document.getElementById('busy');
  return new Promise((resolve) => {
    let left = Math.max(1, Math.ceil(seconds));
    const show = () => {
      if (line) line.textContent = `Busy, retrying in ${left} s`;
    };
    show();
    clearInterval(timer);
    timer = setInterval(() => {
      left -= 1;
      if (left <= 0) {
        clearInterval(timer);
        if (line) line.textContent = '';
        resolve();
      } else {
        show();
      }
    }, 1000);
  });
}
