// The gps profile: a vehicle tracker reporting position (lat, lon in degrees), speed (km/h),
// heading (degrees clockwise from north) and battery (%). Each device drives a smooth random
// route: its speed and turn rate are slowly varying random processes integrated over the real
// time between readings, and it steers back when it strays too far from its start, so a fleet
// stays in one city. Same seed and same reading times, same route.

import { gaussian, type Random } from '../random.js';
import { metricValue, ouStep, type DeviceProfile, type MetricSpec, type ProfileDefinition } from './profile.js';

export type GpsReading = {
  lat: number;
  lon: number;
  speed: number;
  heading: number;
  battery: number;
};

/** Where fleets start (Berlin); each device starts up to START_SPREAD_DEG away. */
export const GPS_HOME = { lat: 52.52, lon: 13.405 } as const;
const START_SPREAD_DEG = 0.1;
/** Beyond this distance from its start a tracker turns back, harder the farther it is. */
export const GPS_ROAM_KM = 10;
const EARTH_RADIUS_M = 6_371_000;
const DEG = Math.PI / 180;
const HOUR_S = 3600;

export const GPS_METRICS: Readonly<Record<keyof GpsReading, MetricSpec>> = {
  lat: { unit: '°', range: [-90, 90], decimals: 6, anomaly: { spike: 0.05, shift: 0.02, drift: 0.05, noise: 0.01 } },
  lon: { unit: '°', range: [-180, 180], decimals: 6, wraps: true, anomaly: { spike: 0.05, shift: 0.02, drift: 0.05, noise: 0.01 } },
  speed: { unit: 'km/h', range: [0, 300], decimals: 1, anomaly: { spike: 80, shift: 40, drift: 40, noise: 20 } },
  heading: { unit: '°', range: [0, 360], decimals: 1, wraps: true, anomaly: { spike: 90, shift: 45, drift: 90, noise: 30 } },
  battery: { unit: '%', range: [0, 100], decimals: 2, anomaly: { spike: -30, shift: -15, drift: -15, noise: 5 } },
};

/** Signed smallest difference `to - from` of two angles in degrees, in (-180, 180]. */
export function angleDifference(from: number, to: number): number {
  const d = (((to - from) % 360) + 360) % 360;
  return d > 180 ? d - 360 : d;
}

/** Distance (m) and bearing (degrees) from one point to another; equirectangular, fine at city scale. */
export function distanceAndBearing(fromLat: number, fromLon: number, toLat: number, toLon: number): { meters: number; bearing: number } {
  const north = (toLat - fromLat) * DEG * EARTH_RADIUS_M;
  const east = angleDifference(fromLon, toLon) * DEG * EARTH_RADIUS_M * Math.cos(((fromLat + toLat) / 2) * DEG);
  const bearing = ((Math.atan2(east, north) / DEG) % 360 + 360) % 360;
  return { meters: Math.hypot(north, east), bearing };
}

export function createGpsProfile(random: Random): DeviceProfile<GpsReading> {
  const startLat = GPS_HOME.lat + (random() * 2 - 1) * START_SPREAD_DEG;
  const startLon = GPS_HOME.lon + (random() * 2 - 1) * START_SPREAD_DEG;
  const cruise = 25 + random() * 35; // km/h, city traffic
  let heading = random() * 360;
  let battery = 60 + random() * 40;
  let lat = startLat;
  let lon = startLon;
  let speedDeviation = 0; // km/h around the cruise speed
  let turnRate = 0; // degrees per second
  let lastAt: number | undefined;

  return {
    next(nowMs) {
      const dtS = lastAt === undefined ? 0 : Math.max(0, nowMs - lastAt) / 1000;
      lastAt = nowMs;
      // one sample per process per reading, whatever dtS: the stream stays aligned
      speedDeviation = ouStep(speedDeviation, dtS, 60, cruise * 0.3, gaussian(random));
      turnRate = ouStep(turnRate, dtS, 15, 4, gaussian(random));
      const speed = Math.max(0, cruise + speedDeviation);

      const home = distanceAndBearing(lat, lon, startLat, startLon);
      const roam = GPS_ROAM_KM * 1000;
      // past the roaming radius, steer toward the start (up to 10 °/s), so routes stay local
      const pull = home.meters > roam ? Math.min(1, (home.meters - roam) / roam) * 10 * Math.sign(angleDifference(heading, home.bearing)) : 0;
      heading = (((heading + (turnRate + pull) * dtS) % 360) + 360) % 360;

      const meters = (speed / 3.6) * dtS;
      lat += ((meters * Math.cos(heading * DEG)) / EARTH_RADIUS_M) / DEG;
      lon += ((meters * Math.sin(heading * DEG)) / (EARTH_RADIUS_M * Math.cos(lat * DEG))) / DEG;
      // the GPS module costs more while moving (fix rate, modem)
      battery -= ((0.3 + speed / 60) * dtS) / HOUR_S;
      return {
        lat: metricValue(GPS_METRICS.lat, lat),
        lon: metricValue(GPS_METRICS.lon, lon),
        speed: metricValue(GPS_METRICS.speed, speed),
        heading: metricValue(GPS_METRICS.heading, heading),
        battery: metricValue(GPS_METRICS.battery, battery + 0.02 * gaussian(random)),
      };
    },
  };
}

export const GPS_PROFILE: ProfileDefinition = {
  name: 'gps',
  summary: 'vehicle tracker on a smooth random route: lat, lon (°), speed (km/h), heading (°), battery (%)',
  metrics: GPS_METRICS,
  obeysShadow: false,
  create: (random) => createGpsProfile(random),
};
